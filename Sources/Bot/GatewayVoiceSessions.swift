import Discord
import Logging

/// The voice sessions that can be run today, before the audio graph exists: check the backend is reachable, join
/// the voice channel through op 4, keep the session record, leave again on `stop`; and end a session when the
/// gateway reports the bot was removed from voice. The audio itself (a graph instance of the pipeline file)
/// replaces this in the pipeline issue, behind the same `VoiceSessionService` protocol.
public actor GatewayVoiceSessions: VoiceSessionService, VoiceServerUpdates {
    struct Record {
        var request: VoiceSessionRequest
        var onEnd: @Sendable (VoiceSessionEnd) async -> Void
        /// Set once op 4 completed; until then a "not in voice" report is the previous session's leave.
        var joined = false
        var voiceServer: String?
    }

    private let voice: any VoiceChannelControl
    private let probe: any BackendProbe
    private let logger: Logger
    private var records: [VoiceSessionID: Record] = [:]

    public init(voice: any VoiceChannelControl, probe: any BackendProbe = TCPBackendProbe(), logger: Logger) {
        self.voice = voice
        self.probe = probe
        self.logger = logger
    }

    public func start(
        _ request: VoiceSessionRequest,
        onEnd: @escaping @Sendable (VoiceSessionEnd) async -> Void
    ) async throws(VoiceSessionProblem) {
        let log = metadata(request)
        // Recorded before the first suspension: a `stop` of the guild's previous session that runs meanwhile then
        // sees this one and does not send a leave after our join.
        records[request.id] = Record(request: request, onEnd: onEnd)
        do {
            try await probe.check(request.backend)
        } catch {
            records[request.id] = nil
            throw error
        }
        // Stopped while the probe ran: nothing joined, nothing to undo.
        guard records[request.id] != nil else { return }
        do {
            try await voice.updateVoiceState(
                guildID: request.guildID, channelID: request.voiceChannelID,
                selfMute: false, selfDeaf: false)
        } catch {
            records[request.id] = nil
            logger.warning("joining voice failed", metadata: log.merging(["error": "\(error)"]) { $1 })
            throw .voiceJoinFailed(detail: "\(error)")
        }
        guard records[request.id] != nil else {
            // Stopped while joining: the stop's leave went out before our join, so leave again.
            await leaveIfIdle(request)
            return
        }
        records[request.id]?.joined = true
        logger.info("voice session started", metadata: log)
    }

    public func stop(_ sessionID: VoiceSessionID) async {
        guard let record = records.removeValue(forKey: sessionID) else { return }
        await leaveIfIdle(record.request)
        logger.info("voice session stopped", metadata: metadata(record.request))
    }

    /// Leaves voice in the request's guild unless another session there started meanwhile (a quick leave and
    /// rejoin): its join must not be undone.
    private func leaveIfIdle(_ request: VoiceSessionRequest) async {
        guard !records.values.contains(where: { $0.request.guildID == request.guildID }) else { return }
        do {
            try await voice.updateVoiceState(
                guildID: request.guildID, channelID: nil, selfMute: false,
                selfDeaf: false)
        } catch {
            logger.warning("leaving voice failed", metadata: metadata(request).merging(["error": "\(error)"]) { $1 })
        }
    }

    /// No DAVE session exists before the voice connection does (next issue), so there is no code to show yet.
    public func privacyCode(guildID: Snowflake) async -> String? { nil }

    /// The sessions running now.
    public var running: [VoiceSessionRequest] { records.values.map(\.request) }

    // MARK: VoiceServerUpdates (from the gateway)

    public func voiceServerReady(_ info: VoiceServerInfo) async {
        guard let id = records.first(where: { $0.value.request.guildID == info.guildID })?.key else { return }
        records[id]?.voiceServer = info.endpoint
        logger.info(
            "voice server ready",
            metadata: [
                "guild": "\(info.guildID)", "channel": "\(info.channelID)", "session": "\(id)",
                "endpoint": "\(info.endpoint)",
            ])
    }

    public func voiceDisconnected(guildID: Snowflake, serverGone: Bool) async {
        // A voice server going away is followed by a new one: wait for it. Being removed from the channel ends.
        guard !serverGone,
            let entry = records.first(where: { $0.value.request.guildID == guildID && $0.value.joined })
        else { return }
        let (id, record) = (entry.key, entry.value)
        records[id] = nil
        logger.info("removed from voice", metadata: metadata(record.request))
        await record.onEnd(VoiceSessionEnd(id: id, problem: .voiceLost(detail: "removed from the voice channel")))
    }

    private func metadata(_ request: VoiceSessionRequest) -> Logger.Metadata {
        [
            "guild": "\(request.guildID)", "channel": "\(request.voiceChannelID)", "session": "\(request.id)",
            "backend": "\(request.backendIndex + 1)",
        ]
    }
}
