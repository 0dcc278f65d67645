import Foundation
import PersonaPlex
import RouterCore

/// The bridge to a PersonaPlex server: sends the Ogg Opus pages on `audio` in real time once the server's `0x00`
/// handshake has arrived, and delivers the server's Ogg pages and text pieces on its outputs. Link states go out on
/// `events`; on going live it emits `stream-restart`, so an encoder linked from `events` starts a fresh Ogg stream,
/// and the link forwards from that stream's BOS page on (the server dies on a stream without headers).
public final class PersonaPlexLink: NodeType, ReportsLatency {
    public static let typeName = "PersonaPlexLink"
    public static let summary = "Bridge to a PersonaPlex server over WebSocket: Ogg Opus both ways, text pieces, link states."
    public static let parameters: [ParameterSpec] = [
        .required("url", .string, "ws:// or wss://HOST:8998/api/chat"),
        .required("text_prompt", .string, "The persona prompt (non-empty, at most 1000 characters)."),
        .optional("voice_prompt", .string, default: .string("NATF0.pt"), "One of the 18 voices (NATF0-3, NATM0-3, VARF0-4, VARM0-4) or a file in voice_dir."),
        .optional("voice_dir", .path, default: nil, "The server's voice folder, to check voice_prompt against its files."),
        .optional("ca_file", .path, default: nil, "PEM certificate authority to trust for wss:// (PersonaPlex's mkcert CA)."),
        .optional("insecure_skip_verify", .bool, default: .bool(false), "Accept any TLS certificate (logs a warning)."),
        .optional("handshake_timeout", .duration, default: .double(60), "Longest wait for the server's handshake."),
        .optional("reconnect", .bool, default: .bool(false), "Reconnect with backoff after the connection drops."),
        .optional("reconnect_attempts", .int(1...1000), default: .int(5), "Reconnect attempts before giving up."),
        .optional("reconnect_delay", .duration, default: .double(1), "First reconnect delay; doubles up to 30 s."),
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [InputSpec("audio", .ogg, doc: "Ogg Opus pages to send (24 kHz mono from OpusOggEncode).")],
            outputs: [
                OutputSpec("audio", MediaFormat(.ogg), doc: "The server's Ogg pages (24 kHz mono, 80 ms packets)."),
                OutputSpec("text", MediaFormat(.text), doc: "The server's text pieces."),
                OutputSpec("events", MediaFormat(.event), doc: "Link states; stream-restart when going live (link to the encoder's control)."),
            ])
    }

    public static func check(_ params: Parameters) -> [NodeCheckProblem] {
        var problems: [NodeCheckProblem] = []
        if let url = params.string("url") {
            do { _ = try PersonaPlexEndpoint(url: url) } catch {
                problems.append(NodeCheckProblem("url", "\(error)", hint: "write ws:// or wss://HOST:8998/api/chat"))
            }
        }
        do { _ = try PersonaPlexChatQuery.validatedTextPrompt(params.string("text_prompt") ?? "") } catch {
            problems.append(NodeCheckProblem("text_prompt", "\(error)", hint: "give a non-empty prompt of at most 1000 characters"))
        }
        do { _ = try PersonaPlexVoices.validated(params.string("voice_prompt") ?? "NATF0.pt", voiceDirectory: params.path("voice_dir")) } catch {
            problems.append(NodeCheckProblem("voice_prompt", "\(error)",
                                             hint: "use one of NATF0-3, NATM0-3, VARF0-4, VARM0-4 (e.g. NATF0.pt), or a file in voice_dir"))
        }
        if let ca = params.path("ca_file"), !FileManager.default.isReadableFile(atPath: ca) {
            problems.append(NodeCheckProblem("ca_file", "cannot read ca_file '\(ca)'",
                                             hint: "give the PEM file of PersonaPlex's CA (mkcert's rootCA.pem), or leave ca_file empty"))
        }
        return problems
    }

    public static func pacing(_ params: Parameters) -> PacingPreference { .realtime }

    static func configuration(_ p: Parameters) throws -> PersonaPlexConfiguration {
        PersonaPlexConfiguration(
            endpoint: try PersonaPlexEndpoint(url: p.string("url") ?? ""),
            textPrompt: p.string("text_prompt") ?? "",
            voicePrompt: p.string("voice_prompt") ?? "NATF0.pt",
            voiceDirectory: p.path("voice_dir"),
            tls: PersonaPlexTLSOptions(caFile: p.path("ca_file"), insecureSkipVerify: p.bool("insecure_skip_verify") ?? false),
            handshakeTimeout: p.double("handshake_timeout") ?? 60)
    }

    private let input: PacketInput
    private let audioOut: PacketLane
    private let textOut: PacketLane
    private let events: EventLane
    private let configuration: PersonaPlexConfiguration
    private let reconnect: ReconnectPolicy?
    private let log: Logger
    private let metrics: NodeMetrics
    private let stateChanges = StateMailbox()
    private var client: PersonaPlexClient?
    private var closing: Task<Void, Never>?
    private var isLive = false
    private var forwarding = false
    private var liveSinceTick: Int64 = 0
    private var warnedNoStream = false
    private var sendDrops = 0
    private var attempts = 0
    private var reconnectAtTick: Int64?
    private var received: [PersonaPlexMessage] = []
    private var sendTimings: [PersonaPlexSendTiming] = []
    private var tickStarts = TickStartRing()
    /// Pages written to the socket: write completion minus the start of the tick that produced them.
    public private(set) var uplinkLatency = LatencyHistogram()
    /// Received pages: wait from the socket read until the next tick picked them up (frame alignment).
    public private(set) var downlinkAlignment = LatencyHistogram()
    /// Received pages: from the start of the tick that picked them up until they were on the output lane.
    public private(set) var downlinkHandoff = LatencyHistogram()
    /// Pages the encoder produced before the link was live and forwarding (not sent, by design).
    public private(set) var pagesHeldBack = 0

    public var latencyReport: [(name: String, histogram: LatencyHistogram)] {
        [("uplink (tick start -> page written to socket)", uplinkLatency),
         ("downlink frame alignment (socket read -> next tick)", downlinkAlignment),
         ("downlink hand-off (tick start -> page on output lane)", downlinkHandoff)]
    }

    public init(_ setup: NodeSetup) throws {
        input = setup.packetInput("audio")
        audioOut = setup.packetOutput("audio")
        textOut = setup.packetOutput("text")
        events = setup.eventOutput("events")
        configuration = try Self.configuration(setup.params)
        log = setup.log
        metrics = setup.metrics
        let p = setup.params
        reconnect = (p.bool("reconnect") ?? false)
            ? ReconnectPolicy(maxAttempts: p.int("reconnect_attempts") ?? 5, initialDelay: p.double("reconnect_delay") ?? 1,
                              multiplier: 2, maxDelay: 30)  // configuration errors (closed during warm-up) are never retried
            : nil
        received.reserveCapacity(64)
        sendTimings.reserveCapacity(64)
    }

    public func start() throws { connect() }

    private func connect() {
        let mailbox = stateChanges
        let log = self.log
        let client = PersonaPlexClient(
            configuration: configuration,
            logger: { level, message in
                switch level {
                case .debug: log.debug(message)
                case .info: log.info(message)
                case .warning: log.warning(message)
                case .error: log.error(message)
                }
            },
            onStateChange: { mailbox.post($0) })
        self.client = client
        isLive = false
        forwarding = false
        log.info("connecting to \(configuration.endpoint.authority) (voice \(configuration.voicePrompt))")
        _ = client.startConnecting()
    }

    public func process(_ tick: Tick) throws {
        tickStarts.record(tick.startNanos)
        for state in stateChanges.drain() { try handle(state, tick: tick) }
        if let at = reconnectAtTick, tick.index >= at {
            reconnectAtTick = nil
            connect()
        }
        guard let client else { return }
        input.forEach { page in
            guard isLive, closing == nil else { pagesHeldBack += 1; return }
            if !forwarding {
                guard OggPage.isBeginningOfStream(page) else { pagesHeldBack += 1; return }
                forwarding = true
            }
            if client.send(audio: page) != .queued { sendDrops += 1 }
        }
        if input.allEnded && closing == nil {
            // The encoder's last (EOS) page went out above; now end the session so the server frees its lock.
            log.info("input ended: closing the session")
            closing = Task { await client.close() }
        }
        if isLive && !forwarding && !warnedNoStream && tick.index - liveSinceTick > 50 {
            warnedNoStream = true
            log.error("live for 1 s but no fresh Ogg stream arrived: link '<this node>.events -> <encoder>.control' so the encoder restarts its stream")
        }
        client.drainReceived(into: &received)
        for message in received {
            if tick.startNanos > 0 { downlinkAlignment.record(tick.startNanos - Int64(message.receivedAtNanos)) }
            message.payload.withUnsafeBytes { bytes in
                switch message.kind {
                case .audio: audioOut.append(bytes)
                case .text: textOut.append(bytes)
                }
            }
        }
        if tick.startNanos > 0 && !received.isEmpty { downlinkHandoff.record(monotonicNanoseconds() - tick.startNanos) }
        client.drainSendTimings(into: &sendTimings)
        for timing in sendTimings {
            if let start = tickStarts.start(atOrBefore: Int64(timing.requestedAtNanos)) {
                uplinkLatency.record(Int64(timing.writtenAtNanos) - start)
            }
        }
        sendTimings.removeAll(keepingCapacity: true)
        metrics.queueDepth = received.count
        if tick.index % 50 == 0 {
            // Bounded buffers on both sides of the socket: what they dropped shows in this node's drops column.
            let c = client.counters
            metrics.drops = sendDrops + c.audioDropped + c.textDropped
        }
    }

    private func handle(_ state: PersonaPlexState, tick: Tick) throws {
        log.info("link \(state)")
        switch state {
        case .idle: break
        case .connecting: events.emit(.linkState(.connecting))
        case .upgraded: events.emit(.linkState(.warmingUp))
        case .waitingForServer(.heldByThisProcess): events.emit(.linkState(.waiting))
        // Silence after the upgrade is either a busy server or a slow warm-up; the wire cannot tell which, so the
        // event stays "warming up" and the log line above carries the client's explanation.
        case .waitingForServer(.serverBusyOrWarmingUp): break
        case .live:
            isLive = true
            liveSinceTick = tick.index
            attempts = 0
            events.emit(.linkState(.live))
            events.emit(.streamRestart)
        case .closed:
            isLive = false
            events.emit(.linkState(.closed))
        case .failed(let error):
            isLive = false
            events.emit(.linkState(.failed(error.description)))
            guard closing == nil else { return }
            if let policy = reconnect, policy.shouldRetry(error), attempts < (policy.maxAttempts ?? Int.max) {
                attempts += 1
                var rng = SystemRandomNumberGenerator()
                let delay = (policy.delay(afterFailedAttempt: attempts, using: &rng) * 10).rounded() / 10
                log.warning("\(error); reconnecting in \(delay) s (attempt \(attempts))")
                reconnectAtTick = tick.index + Int64(delay * 50)
                client = nil
            } else {
                throw NodeError("PersonaPlex: \(error)")
            }
        }
    }

    public func stop() {
        guard let client else { return }
        let task = closing ?? Task { await client.close() }
        let done = DispatchSemaphore(value: 0)
        Task { await task.value; done.signal() }
        if done.wait(timeout: .now() + configuration.closeGracePeriod + 2) == .timedOut {
            log.warning("the server did not acknowledge the close in time; socket dropped")
        }
        for state in stateChanges.drain() { log.info("link \(state)") }
        self.client = nil
    }
}

/// State changes posted from the network thread, drained by the audio thread once per tick.
final class StateMailbox: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [PersonaPlexState] = []
    private var hasPending = false

    func post(_ state: PersonaPlexState) {
        lock.lock(); pending.append(state); hasPending = true; lock.unlock()
    }

    func drain() -> [PersonaPlexState] {
        lock.lock(); defer { lock.unlock() }
        guard hasPending else { return [] }
        let out = pending
        pending.removeAll()
        hasPending = false
        return out
    }
}

/// The start times of the last 64 ticks, to attribute a send timing to the tick that produced the page.
struct TickStartRing {
    private var starts = [Int64](repeating: 0, count: 64)
    private var next = 0

    mutating func record(_ start: Int64) {
        starts[next & 63] = start
        next += 1
    }

    func start(atOrBefore time: Int64) -> Int64? {
        var i = next - 1
        while i >= max(0, next - 64) {
            let s = starts[i & 63]
            if s > 0 && s <= time { return s }
            i -= 1
        }
        return nil
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
