import Bot
import Discord
import DiscordVoice
import Foundation
import Logging
import NIOCore
import NIOPosix
import Nodes
import PersonaPlex
import Realtime
import RouterCore

/// The bot's voice sessions as audio graphs: for each session, a `VoiceConnection` in the guild and one instance
/// of the pipeline file, its DiscordIn/DiscordOut on the connection's queues and its TextRelay (`sink: chat`) on
/// the session's text channel. The session runs on its own 20 ms thread; this actor only starts, watches and
/// ends it (control plane).
public actor PipelineVoiceSessions: VoiceSessionService, VoiceServerUpdates, GracefulSessions {
    /// How sessions run.
    public struct Options: Sendable {
        /// The voice connection's settings (`ws` for the simulator, an extra CA).
        public var voice: VoiceConnectionConfiguration
        /// How long joining voice may take (op 4 → Session Description) before the start fails.
        public var joinTimeout: Duration = .seconds(15)
        /// Log per-node metrics every N seconds of a session (nil: only at the end).
        public var metricsInterval: Double?
        /// Receives each session's summary when it ends (the demo prints it).
        public var onSummary: @Sendable (SessionSummary) -> Void = { _ in }

        public init(voice: VoiceConnectionConfiguration) { self.voice = voice }
    }

    struct Record {
        var request: VoiceSessionRequest
        var onEnd: @Sendable (VoiceSessionEnd) async -> Void
        let connection: VoiceConnection
        let outbox: TextOutbox
        var session: Session?
        var run: Task<SessionOutcome, Never>?
        var watchers: [Task<Void, Never>] = []
        var startedAt: ContinuousClock.Instant = .now
    }

    private let pipeline: BridgePipeline
    private let transport: any BotTransport
    private let options: Options
    private let probe: any BackendProbe
    private let group: any EventLoopGroup
    private let logger: Logging.Logger
    private var records: [VoiceSessionID: Record] = [:]

    public init(
        pipeline: BridgePipeline, transport: any BotTransport, options: Options,
        probe: any BackendProbe = TCPBackendProbe(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logging.Logger
    ) {
        self.pipeline = pipeline
        self.transport = transport
        self.options = options
        self.probe = probe
        self.group = group
        self.logger = logger
    }

    /// The sessions running now.
    public var running: [VoiceSessionRequest] { records.values.map(\.request) }

    // MARK: - VoiceSessionService

    public func start(
        _ request: VoiceSessionRequest,
        onEnd: @escaping @Sendable (VoiceSessionEnd) async -> Void
    ) async throws(VoiceSessionProblem) {
        let id = request.id
        let values = Self.sessionValues(request)
        let instance: ValidatedPipeline
        do {
            instance = try pipeline.instantiate(values)
        } catch {
            logger.error("the pipeline refused the session's values", metadata: meta(request, error))
            throw .pipelineFailed(detail: "\(error)")
        }
        try await probe.check(request.backend)
        let connection: VoiceConnection
        do {
            let log = logger
            connection = try VoiceConnection(
                eventLoop: group.next(), control: transport.voiceControl, configuration: options.voice,
                log: { line in log.debug("\(line)", metadata: ["session": "\(id)"]) })
        } catch {
            throw VoiceSessionProblem.voiceJoinFailed(detail: "\(error)")
        }
        // Recorded before joining: the gateway's voice events for the guild find the connection through it.
        records[id] = Record(request: request, onEnd: onEnd, connection: connection, outbox: TextOutbox())
        do {
            try await transport.voiceControl.updateVoiceState(
                guildID: request.guildID, channelID: request.voiceChannelID, selfMute: false, selfDeaf: false)
        } catch {
            await abandon(id, connection)
            throw .voiceJoinFailed(detail: "\(error)")
        }
        if let problem = await waitUntilConnected(connection) {
            await abandon(id, connection)
            throw problem
        }
        guard let record = records[id] else { return await connection.close() }  // stopped meanwhile
        var resources = SessionResources()
        resources.insert(connection.received)
        resources.insert(connection.outgoing)
        resources.insert(record.outbox)
        let session: Session
        do {
            session = Session(graph: try Graph(instance, resources: resources))
        } catch {
            logger.error("the pipeline could not be built", metadata: meta(request, error))
            await abandon(id, connection)
            throw .pipelineFailed(detail: "\(error)")
        }
        let interval = options.metricsInterval
        let run = Task { await session.runOnThread(realtime: true, metricsInterval: interval) }
        records[id]?.session = session
        records[id]?.run = run
        records[id]?.startedAt = .now
        records[id]?.watchers = [
            Task { [weak self] in
                let outcome = await run.value
                await self?.ranOut(id, outcome)
            },
            Task { [weak self] in await self?.watchConnection(id, connection) },
            Task { [weak self] in await self?.pumpText(id, record.outbox, to: request.textChannelID) },
        ]
        logger.info(
            "voice session running", metadata: meta(request).merging(["pipeline": "\(pipeline.name)"]) { $1 })
    }

    public func stop(_ sessionID: VoiceSessionID) async {
        await finish(sessionID, problem: nil)
    }

    public func privacyCode(guildID: Snowflake) async -> String? {
        guard let record = records.values.first(where: { $0.request.guildID == guildID }) else { return nil }
        return await record.connection.privacyCode()
    }

    // MARK: - GracefulSessions

    /// SIGTERM: every session ends (graph drained, files closed), its users are told, the bot leaves voice.
    public func endAll() async {
        await withTaskGroup(of: Void.self) { group in
            for id in records.keys {
                group.addTask { await self.finish(id, problem: .shuttingDown) }
            }
        }
    }

    // MARK: - VoiceServerUpdates (from the gateway)

    public func voiceServerReady(_ info: VoiceServerInfo) async {
        guard let record = records.values.first(where: { $0.request.guildID == info.guildID }) else { return }
        await record.connection.voiceServerReady(info)
    }

    public func voiceDisconnected(guildID: Snowflake, serverGone: Bool) async {
        guard let (id, record) = records.first(where: { $0.value.request.guildID == guildID }) else { return }
        await record.connection.voiceDisconnected(guildID: guildID, serverGone: serverGone)
        // A voice server going away is followed by a new one; being removed from the channel ends the session.
        if !serverGone, record.session != nil {
            await finish(id, problem: .voiceLost(detail: "removed from the voice channel"))
        }
    }

    // MARK: - Ending

    /// Ends a session once, whoever asks first: stops the graph (it drains and closes its files), closes the voice
    /// connection, reports `problem` to the bot if any, and leaves voice. The bot hears why before the leave: it
    /// would otherwise take its own voice state leaving the channel for a moderator's disconnect.
    private func finish(_ id: VoiceSessionID, problem: VoiceSessionProblem?) async {
        guard let record = records.removeValue(forKey: id) else { return }
        record.session?.requestStop()
        let outcome = await record.run?.value
        for watcher in record.watchers { watcher.cancel() }
        await postRemainingText(record)
        let status = await record.connection.status()
        await record.connection.close()
        if let problem { await record.onEnd(VoiceSessionEnd(id: id, problem: problem)) }
        // Unless the bot started the guild's next session meanwhile (a quick rejoin): its join must stand.
        if !records.values.contains(where: { $0.request.guildID == record.request.guildID }) {
            do {
                try await transport.voiceControl.updateVoiceState(
                    guildID: record.request.guildID, channelID: nil, selfMute: false, selfDeaf: false)
            } catch {
                logger.warning("leaving voice failed", metadata: meta(record.request, error))
            }
        }
        if let session = record.session {
            var summary = SessionSummary(
                sessionID: "\(id)", guildID: "\(record.request.guildID)", seconds: Tick.seconds(session.tickIndex),
                lateTicks: session.lateTicks, outcome: problem.map { "\($0)" } ?? outcome.map { "\($0)" } ?? "stopped",
                nodeReport: MetricsReport.render(session.metrics), speakers: Self.speakers(session.graph),
                voice: status)
            summary.tickP50 = session.tickDurations.percentile(0.5)
            summary.tickP99 = session.tickDurations.percentile(0.99)
            summary.tickMax = session.tickDurations.maxValue
            summary.latencyReport = MetricsReport.renderLatencies(session.graph)
            logger.info("voice session ended\n\(summary)", metadata: meta(record.request))
            options.onSummary(summary)
        }
    }

    /// A watcher noticed the end. `finish` cancels the watchers, so it runs in a task of its own: leaving voice
    /// and telling the bot must not be cut short by the watcher's own cancellation.
    private func endFromWatcher(_ id: VoiceSessionID, _ problem: VoiceSessionProblem) async {
        await Task { await self.finish(id, problem: problem) }.value
    }

    /// Undoes a start that failed after the record was made (no graph yet).
    private func abandon(_ id: VoiceSessionID, _ connection: VoiceConnection) async {
        guard let record = records.removeValue(forKey: id) else { return await connection.close() }
        await connection.close()
        if !records.values.contains(where: { $0.request.guildID == record.request.guildID }) {
            try? await transport.voiceControl.updateVoiceState(
                guildID: record.request.guildID, channelID: nil, selfMute: false, selfDeaf: false)
        }
    }

    /// The graph stopped by itself: a node failed (PersonaPlex closed, a file could not be written).
    private func ranOut(_ id: VoiceSessionID, _ outcome: SessionOutcome) async {
        guard records[id] != nil else { return }
        let problem: VoiceSessionProblem
        switch outcome {
        case .failed(.nodeFailed(let node, let type, let reason)) where type == "PersonaPlexLink":
            problem = .backendClosed(detail: "\(node): \(reason)")
        case .failed(let error):
            problem = .pipelineFailed(detail: "\(error)")
        case .completed, .stopped:
            problem = .pipelineFailed(detail: "the pipeline ended by itself (\(outcome))")
        }
        await endFromWatcher(id, problem)
    }

    /// Ends the session when the voice connection stops for good (retries exhausted, 4014 kicked).
    private func watchConnection(_ id: VoiceSessionID, _ connection: VoiceConnection) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            guard let status = await connection.status() else { continue }
            if case .stopped(let reason) = status.phase, reason != .closedByUs {
                return await endFromWatcher(id, .voiceLost(detail: "\(reason)"))
            }
        }
    }

    /// Op 4 sent: waits for the connection to reach Session Description, or says why it did not.
    private func waitUntilConnected(_ connection: VoiceConnection) async -> VoiceSessionProblem? {
        let deadline = ContinuousClock.now + options.joinTimeout
        while ContinuousClock.now < deadline {
            if let status = await connection.status() {
                switch status.phase {
                case .connected: return nil
                case .stopped(let reason): return .voiceJoinFailed(detail: "\(reason)")
                default: break
                }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return .voiceJoinFailed(detail: "no voice connection within \(options.joinTimeout)")
    }

    // MARK: - Text

    /// Moves the AI's sentences from the tick thread's outbox to the text chat (batched, mentions escaped).
    private nonisolated func pumpText(_ id: VoiceSessionID, _ outbox: TextOutbox, to channel: Snowflake) async {
        let chat = AIChatSink(transport: transport, channelID: channel, logger: logger)
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            for sentence in Self.take(outbox) { await chat.post(sentence) }
        }
    }

    /// What the outbox still holds when the session ends goes out too.
    private func postRemainingText(_ record: Record) async {
        let rest = Self.take(record.outbox)
        guard !rest.isEmpty else { return }
        let chat = AIChatSink(transport: transport, channelID: record.request.textChannelID, logger: logger)
        for sentence in rest { await chat.post(sentence) }
    }

    // MARK: - Helpers

    private static func take(_ outbox: TextOutbox) -> [String] {
        var sentences: [String] = []
        outbox.drain { sentences.append($0) }
        return sentences
    }

    static func sessionValues(_ request: VoiceSessionRequest) -> SessionValues {
        let backend = request.backend
        let host = backend.host.contains(":") ? "[\(backend.host)]" : backend.host
        return SessionValues(
            id: "\(request.id)", guildID: "\(request.guildID)", voiceChannelID: "\(request.voiceChannelID)",
            textChannelID: "\(request.textChannelID)", userID: "\(request.starter.id)",
            userName: request.starter.name, textPrompt: request.settings.textPrompt, voice: request.settings.voice,
            backendURL: "\(backend.secure ? "wss" : "ws")://\(host):\(backend.port)\(backend.path)")
    }

    /// The speakers of every DiscordIn in the graph.
    static func speakers(_ graph: Graph) -> [DiscordSpeakerCounters] {
        graph.namedNodes.flatMap { _, node in
            ((node as? DiscordIn)?.speakerCounters.values).map { $0.sorted { $0.userID < $1.userID } } ?? []
        }
    }

    private func meta(_ request: VoiceSessionRequest, _ error: (any Error)? = nil) -> Logging.Logger.Metadata {
        var metadata: Logging.Logger.Metadata = [
            "guild": "\(request.guildID)", "channel": "\(request.voiceChannelID)", "session": "\(request.id)",
            "backend": "\(request.backendIndex + 1)",
        ]
        if let error { metadata["error"] = "\(error)" }
        return metadata
    }
}
