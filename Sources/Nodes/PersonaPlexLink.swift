import Foundation
import PersonaPlex
import Realtime
import RouterCore

/// The bridge to a PersonaPlex server: sends the Ogg Opus pages on `audio` in real time once the server's `0x00`
/// handshake has arrived, and delivers the server's Ogg pages and text pieces on its outputs. Link states go out on
/// `events`; on going live it emits `stream-restart`, so an encoder linked from `events` starts a fresh Ogg stream,
/// and the link forwards from that stream's BOS page on (the server dies on a stream without headers).
///
/// Pages go out in two steps on the tick thread: `process` queues them in the client's outbox (a copy, no system
/// call), and `tickDidEnd`, after the whole graph ran, wakes the event loop once if this tick queued any. The woken
/// loop frames and writes them; on a loaded 2-core machine it often preempts the tick thread at the wake-up, which
/// then costs the graph nothing, where a wake-up inside `process` held up every node after this one.
public final class PersonaPlexLink: NodeType, ReportsLatency, TickObserver {
    public static let typeName = "PersonaPlexLink"
    public static let summary =
        "Bridge to a PersonaPlex server over WebSocket: Ogg Opus both ways, text pieces, link states."
    /// The schema: each parameter's type, default and documentation, declared once.
    enum Param {
        static let url: ParameterKey<String?> = .requiredString("url", "ws:// or wss://HOST:8998/api/chat")
        static let textPrompt: ParameterKey<String?> = .requiredString(
            "text_prompt", "The persona prompt (non-empty, at most 1000 characters).")
        static let voicePrompt: ParameterKey<String> = .string(
            "voice_prompt", default: "NATF0.pt",
            "One of the 18 voices (NATF0-3, NATM0-3, VARF0-4, VARM0-4) or a file in voice_dir.")
        static let voiceDirectory: ParameterKey<String?> = .optionalPath(
            "voice_dir", "The server's voice folder, to check voice_prompt against its files.")
        static let caFile: ParameterKey<String?> = .optionalPath(
            "ca_file", "PEM certificate authority to trust for wss:// (PersonaPlex's mkcert CA).")
        static let insecureSkipVerify: ParameterKey<Bool> = .bool(
            "insecure_skip_verify", default: false, "Accept any TLS certificate (logs a warning).")
        static let handshakeTimeout: ParameterKey<Double> = .duration(
            "handshake_timeout", default: 60, "Longest wait for the server's handshake.")
        static let reconnect: ParameterKey<Bool> = .bool(
            "reconnect", default: false, "Reconnect with backoff after the connection drops.")
        static let reconnectAttempts: ParameterKey<Int> = .int(
            "reconnect_attempts", 1...1000, default: 5, "Reconnect attempts before giving up.")
        static let reconnectDelay: ParameterKey<Double> = .duration(
            "reconnect_delay", default: 1, "First reconnect delay; doubles up to 30 s.")
    }
    public static let parameters = [
        Param.url.spec, Param.textPrompt.spec, Param.voicePrompt.spec, Param.voiceDirectory.spec, Param.caFile.spec,
        Param.insecureSkipVerify.spec, Param.handshakeTimeout.spec, Param.reconnect.spec, Param.reconnectAttempts.spec,
        Param.reconnectDelay.spec,
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [InputSpec("audio", .ogg, doc: "Ogg Opus pages to send (24 kHz mono from OpusOggEncode).")],
            outputs: [
                OutputSpec("audio", MediaFormat(.ogg), doc: "The server's Ogg pages (24 kHz mono, 80 ms packets)."),
                OutputSpec("text", MediaFormat(.text), doc: "The server's text pieces."),
                OutputSpec(
                    "events", MediaFormat(.event),
                    doc: "Link states; stream-restart when going live (link to the encoder's control)."),
            ])
    }

    public static func check(_ params: Parameters) -> [NodeCheckProblem] {
        var problems: [NodeCheckProblem] = []
        if let url = params[Param.url] {
            do { _ = try PersonaPlexEndpoint(url: url) } catch {
                problems.append(NodeCheckProblem("url", "\(error)", hint: "write ws:// or wss://HOST:8998/api/chat"))
            }
        }
        if let prompt = params[Param.textPrompt] {  // (validation reports a missing one before calling check)
            do { _ = try PersonaPlexChatQuery.validatedTextPrompt(prompt) } catch {
                problems.append(
                    NodeCheckProblem(
                        "text_prompt", "\(error)", hint: "give a non-empty prompt of at most 1000 characters"))
            }
        }
        do {
            _ = try PersonaPlexVoices.validated(params[Param.voicePrompt], voiceDirectory: params[Param.voiceDirectory])
        } catch {
            problems.append(
                NodeCheckProblem(
                    "voice_prompt", "\(error)",
                    hint: "use one of NATF0-3, NATM0-3, VARF0-4, VARM0-4 (e.g. NATF0.pt), or a file in voice_dir"))
        }
        if let ca = params[Param.caFile], !FileManager.default.isReadableFile(atPath: ca) {
            problems.append(
                NodeCheckProblem(
                    "ca_file", "cannot read ca_file '\(ca)'",
                    hint: "give the PEM file of PersonaPlex's CA (mkcert's rootCA.pem), or leave ca_file empty"))
        }
        return problems
    }

    public static func pacing(_ params: Parameters) -> PacingPreference { .realtime }

    static func configuration(_ p: Parameters) throws -> PersonaPlexConfiguration {
        guard let url = p[Param.url] else { throw NodeError("url is missing") }
        guard let textPrompt = p[Param.textPrompt] else { throw NodeError("text_prompt is missing") }
        return PersonaPlexConfiguration(
            endpoint: try PersonaPlexEndpoint(url: url),
            textPrompt: textPrompt,
            voicePrompt: p[Param.voicePrompt],
            voiceDirectory: p[Param.voiceDirectory],
            tls: PersonaPlexTLSOptions(caFile: p[Param.caFile], insecureSkipVerify: p[Param.insecureSkipVerify]),
            handshakeTimeout: p[Param.handshakeTimeout])
    }

    /// The reconnect policy the parameters ask for, or nil without `reconnect`. Configuration errors (closed during
    /// warm-up) are never retried.
    static func reconnectPolicy(_ p: Parameters) -> ReconnectPolicy? {
        guard p[Param.reconnect] else { return nil }
        return ReconnectPolicy(
            maxAttempts: p[Param.reconnectAttempts], initialDelay: p[Param.reconnectDelay],
            multiplier: 2, maxDelay: 30)
    }

    private let input: PacketInput
    private let audioOut: PacketLane
    private let textOut: PacketLane
    private let events: EventLane
    private let configuration: PersonaPlexConfiguration
    private let reconnect: ReconnectPolicy?
    private let log: Logger
    private let metrics: NodeMetrics
    /// What the node is doing with its session, on the tick thread. Moves only on the client's state changes (read
    /// from its ring in `process`) and on the node's own decisions (close at the end of the input, reconnect).
    private var run = Run.notStarted
    private var warnedNoStream = false
    private var sendDrops = 0
    private var attempts = 0
    private var drained = false
    private var sendTimings: [PersonaPlexSendTiming] = []
    /// The client this tick queued pages on (woken in `tickDidEnd`); nil when the tick queued none.
    private var queuedOn: PersonaPlexClient?
    /// True between the server's `0x00` and the end of the session.
    public var isLive: Bool { if case .live = run { return true } else { return false } }
    /// Pages written: from their PCM frame entering the encoder (its stamp) to the socket write.
    public private(set) var uplinkLatency = LatencyHistogram()
    /// Received pages: wait from the socket read until the next tick picked them up (frame alignment).
    public private(set) var downlinkAlignment = LatencyHistogram()
    /// Pages the encoder produced before the link was live and forwarding (not sent, by design).
    public private(set) var pagesHeldBack = 0
    /// The session counters of the last client, captured when it ended or the node stopped.
    public private(set) var lastCounters = PersonaPlexCounters()
    /// The counters of the current client (no lock: relaxed atomics), or `lastCounters` between clients.
    public var counters: PersonaPlexCounters { run.client?.counters ?? lastCounters }

    public var latencyReport: [(name: String, histogram: LatencyHistogram)] {
        [
            ("uplink (PCM frame into the encoder -> its page written to the socket)", uplinkLatency),
            ("downlink frame alignment (socket read -> next tick picks the page up)", downlinkAlignment),
        ]
    }

    /// Link states are final; the node holds the session open until its client reached one (bounded by the close
    /// grace period), then one more tick so event consumers see `closed`.
    public var isDrained: Bool { drained }

    public init(_ setup: NodeSetup) throws {
        input = setup.packetInput("audio")
        audioOut = setup.packetOutput("audio")
        textOut = setup.packetOutput("text")
        events = setup.eventOutput("events")
        configuration = try Self.configuration(setup.params)
        log = setup.log
        metrics = setup.metrics
        reconnect = Self.reconnectPolicy(setup.params)
        sendTimings.reserveCapacity(64)
        setup.observeTickEnd(self)
    }

    public func start() throws { connect() }

    private func connect() {
        let log = self.log
        // The client's `sendPeriod` (drain on the tick's schedule, no wake-up from the tick thread) stays off: a
        // timer-woken event loop is scheduled later than one woken by the tick thread on a loaded 2-core machine,
        // and uplink p99 rose from 0.7-3 ms to 4-6 ms (the budget is 2 ms). The one wake-up per tick, from
        // `tickDidEnd`, keeps the latency without costing the graph.
        let client = PersonaPlexClient(
            configuration: configuration,
            logger: { level, message in
                switch level {
                case .debug: log.debug(message)
                case .info: log.info(message)
                case .warning: log.warning(message)
                case .error: log.error(message)
                }
            })
        run = .connecting(client)
        log.info("connecting to \(configuration.endpoint.authority) (voice \(configuration.voicePrompt))")
        _ = client.startConnecting()
    }

    public func process(_ tick: Tick) throws {
        if case .closing(_, _, let endedAt?) = run, tick.index > endedAt { drained = true }
        if let client = run.client {
            try client.drainStateChanges { try handle($0, tick: tick) }
        }
        if case .waitingToReconnect(let at) = run, tick.index >= at { connect() }
        guard let client = run.client else {
            if input.allEnded { drained = true }  // nothing to close (failed without reconnect, or between attempts)
            return
        }
        for lane in input.lanes {
            for index in 0..<lane.count { forward(lane[index], stamp: lane.stamp(at: index)) }
        }
        switch run {
        case .connecting, .live:
            if input.allEnded {
                // The encoder's last (EOS) page went out above; now end the session so the server frees its lock.
                log.info("input ended: closing the session")
                run = .closing(client, since: tick.index, endedAt: nil)
                _ = client.startClosing()
            }
        case .closing(_, let since, _):
            if !drained && tick.index - since > Tick.count(seconds: configuration.closeGracePeriod + 2) {
                log.warning(
                    "the session did not end within \(configuration.closeGracePeriod + 2) s of closing; giving up on it"
                )
                drained = true
            }
        case .ended:
            if input.allEnded { drained = true }
        case .notStarted, .waitingToReconnect:
            break
        }
        if case .live(_, let since, forwarding: false) = run, !warnedNoStream,
            tick.index - since > Int64(Tick.perSecond)
        {
            warnedNoStream = true
            log.error(
                "live for 1 s but no fresh Ogg stream arrived: link '<this node>.events -> <encoder>.control' so the encoder restarts its stream"
            )
        }
        // Straight from the client's ring into the output lanes: no copy in between, no lock.
        let receivedCount = client.drainReceived { kind, bytes, receivedAt in
            if tick.startNanos > 0 {
                downlinkAlignment.record(Nanoseconds.elapsed(from: receivedAt, to: tick.startNanos))
            }
            switch kind {
            case .audio:
                audioOut.append(bytes)
                audioOut.stampLast(receivedAt)  // Decode measures to its first PCM frame
            case .text: textOut.append(bytes)
            }
        }
        recordSendTimings(client)
        metrics.queueDepth = receivedCount
        if tick.index % Int64(Tick.perSecond) == 0 {
            // Bounded buffers on both sides of the socket: what they dropped shows in this node's drops column.
            let c = client.counters
            metrics.drops = sendDrops + c.audioDropped + c.textDropped
        }
    }

    /// Sends one encoder page once live, from the BOS page of a fresh stream on.
    @inline(__always)
    private func forward(_ page: UnsafeRawBufferPointer, stamp: UInt64) {
        guard case .live(let client, let since, let forwarding) = run else {
            pagesHeldBack += 1
            return
        }
        if !forwarding {
            guard OggPage.isBeginningOfStream(page) else {
                pagesHeldBack += 1
                return
            }
            run = .live(client, since: since, forwarding: true)
        }
        if client.enqueue(audio: page, originNanos: stamp) == .queued {
            queuedOn = client
        } else {
            sendDrops += 1
        }
    }

    /// After the whole tick: one wake-up of the event loop for the pages this tick queued, none for a tick without.
    public func tickDidEnd(_ tick: Tick) {
        guard let client = queuedOn else { return }
        queuedOn = nil
        client.wakeIfQueued()
    }

    private func recordSendTimings(_ client: PersonaPlexClient) {
        client.drainSendTimings(into: &sendTimings)
        for timing in sendTimings {
            uplinkLatency.record(Nanoseconds.elapsed(from: timing.requestedAtNanos, to: timing.writtenAtNanos))
        }
        sendTimings.removeAll(keepingCapacity: true)
    }

    /// One state change of the client: the event it puts on `events` (`LinkState(personaPlex:)`, the one
    /// mapping), a log line, and the node's move.
    private func handle(_ state: PersonaPlexState, tick: Tick) throws {
        if case .waitingForServer(.serverBusyOrWarmingUp) = state {
            // Silence after the upgrade is either a busy server or a slow warm-up; the wire cannot tell which, so
            // the event stays "warming up" and the log says what may be going on.
            log.warning(
                "no handshake after \(Int(configuration.waitingNotice)) s: the server may be busy with another "
                    + "session (PersonaPlex serves one session at a time and queues the rest silently) or still processing "
                    + "the prompts; waiting up to handshake_timeout (\(Int(configuration.handshakeTimeout)) s)")
        } else {
            log.info("link \(state)")
        }
        if let linkState = LinkState(personaPlex: state) { events.emit(.linkState(linkState)) }
        switch (state, run) {
        case (.live, .connecting(let client)):
            run = .live(client, since: tick.index, forwarding: false)
            attempts = 0
            events.emit(.streamRestart)
        case (.closed, .closing(let client, let since, _)), (.failed, .closing(let client, let since, _)):
            lastCounters = client.counters
            run = .closing(client, since: since, endedAt: tick.index)
        case (.closed, let other):
            lastCounters = other.client?.counters ?? lastCounters
            run = .ended(other.client)
        case (.failed(let error), let other):
            lastCounters = other.client?.counters ?? lastCounters
            if let policy = reconnect, policy.shouldRetry(error), attempts < (policy.maxAttempts ?? Int.max) {
                attempts += 1
                var rng = SystemRandomNumberGenerator()
                let delay = (policy.delay(afterFailedAttempt: attempts, using: &rng) * 10).rounded() / 10
                log.warning("\(error); reconnecting in \(delay) s (attempt \(attempts))")
                run = .waitingToReconnect(at: tick.index + Tick.count(seconds: delay))
            } else {
                run = .ended(other.client)
                throw NodeError("PersonaPlex: \(error)")
            }
        default:
            break
        }
    }

    public func stop() {
        queuedOn = nil  // a page queued in a tick that failed goes out with the close (its last drain)
        guard let client = run.client else { return }
        let done = DispatchSemaphore(value: 0)
        Task {
            await client.close()
            done.signal()
        }  // idempotent: joins a close already under way
        if done.wait(timeout: .now() + configuration.closeGracePeriod + 2) == .timedOut {
            log.warning("the server did not acknowledge the close in time; socket dropped")
        }
        client.drainStateChanges { log.info("link \($0)") }
        recordSendTimings(client)  // pages written after the last tick
        lastCounters = client.counters
        let c = lastCounters
        log.info(
            "link stopped: \(c.audioSent) pages (\(c.bytesSent) bytes) written, \(c.audioReceived) pages and "
                + "\(c.textReceived) text pieces received, \(c.ignoredMessages) messages of other kinds ignored, "
                + "\(c.longHandshakes) long handshakes, \(pagesHeldBack) pages held back before live, "
                + "\(c.sendsDroppedBacklog + sendDrops) sends dropped, \(c.audioDropped + c.textDropped) received dropped, "
                + "\(c.wakeUps) event-loop wake-ups, \(c.emptyDrains) scheduled drains found no page")
        run = .ended(nil)
    }
}

extension PersonaPlexLink {
    /// The node's side of its session (tick thread only).
    enum Run {
        /// `start()` not called yet.
        case notStarted
        /// A client is connecting, queued or warming up.
        case connecting(PersonaPlexClient)
        /// The server sent `0x00` at tick `since`; `forwarding` once a fresh stream's BOS page went out.
        case live(PersonaPlexClient, since: Int64, forwarding: Bool)
        /// The node asked the client to close at tick `since`; `endedAt` is the tick that emitted its final state.
        case closing(PersonaPlexClient, since: Int64, endedAt: Int64?)
        /// The session failed with a retryable error: a new client connects at tick `at`.
        case waitingToReconnect(at: Int64)
        /// Over (failed without retry, closed, or stopped); the client is kept for `stop()`'s counters.
        case ended(PersonaPlexClient?)

        var client: PersonaPlexClient? {
            switch self {
            case .connecting(let c), .live(let c, _, _), .closing(let c, _, _): return c
            case .ended(let c): return c
            case .notStarted, .waitingToReconnect: return nil
            }
        }
    }
}

extension LinkState {
    /// The one mapping from a PersonaPlex client state to the engine's link state; `nil` for the states that put
    /// nothing on the event lane (`idle`, `closing`, and the ambiguous busy-or-warming-up notice, which stays
    /// "warming up").
    public init?(personaPlex state: PersonaPlexState) {
        switch state {
        case .idle, .closing, .waitingForServer(.serverBusyOrWarmingUp): return nil
        case .connecting: self = .connecting
        case .waitingForServer(.heldByThisProcess): self = .waiting
        case .upgraded: self = .warmingUp
        case .live: self = .live
        case .closed: self = .closed
        case .failed(let error): self = .failed(error.description)
        }
    }
}

/// Just enough Ogg to recognise a stream's first page.
enum OggPage {
    /// True when `bytes` starts with an Ogg page header whose beginning-of-stream flag is set.
    static func isBeginningOfStream(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 27 && bytes[0] == 0x4F && bytes[1] == 0x67 && bytes[2] == 0x67 && bytes[3] == 0x53
            && bytes[5] & 0x02 != 0
    }
}
