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

    public func start(_ request: VoiceSessionRequest,
                      onEnd: @escaping @Sendable (VoiceSessionEnd) async -> Void) async throws(VoiceSessionProblem) {
        let log = metadata(request)
        try await probe.check(request.backend)
        do {
            try await voice.updateVoiceState(guildID: request.guildID, channelID: request.voiceChannelID,
                                             selfMute: false, selfDeaf: false)
        } catch {
            logger.warning("joining voice failed", metadata: log.merging(["error": "\(error)"]) { $1 })
            throw .voiceJoinFailed(detail: "\(error)")
        }
        records[request.id] = Record(request: request, onEnd: onEnd)
        logger.info("voice session started", metadata: log)
    }

    public func stop(_ sessionID: VoiceSessionID) async {
        guard let record = records.removeValue(forKey: sessionID) else { return }
        let guild = record.request.guildID
        // Another session may have started in the guild meanwhile (a quick leave and rejoin): leave only if not.
        guard !records.values.contains(where: { $0.request.guildID == guild }) else { return }
        do {
            try await voice.updateVoiceState(guildID: guild, channelID: nil, selfMute: false, selfDeaf: false)
        } catch {
            logger.warning("leaving voice failed", metadata: metadata(record.request).merging(["error": "\(error)"]) { $1 })
        }
        logger.info("voice session stopped", metadata: metadata(record.request))
    }

    /// No DAVE session exists before the voice connection does (next issue), so there is no code to show yet.
    public func privacyCode(guildID: Snowflake) async -> String? { nil }

    /// The sessions running now.
    public var running: [VoiceSessionRequest] { records.values.map(\.request) }

    // MARK: VoiceServerUpdates (from the gateway)

    public func voiceServerReady(_ info: VoiceServerInfo) async {
        guard let id = records.first(where: { $0.value.request.guildID == info.guildID })?.key else { return }
        records[id]?.voiceServer = info.endpoint
        logger.info("voice server ready", metadata: [
            "guild": "\(info.guildID)", "channel": "\(info.channelID)", "session": "\(id)", "endpoint": "\(info.endpoint)",
        ])
    }

    public func voiceDisconnected(guildID: Snowflake, serverGone: Bool) async {
        // A voice server going away is followed by a new one: wait for it. Being removed from the channel ends.
        guard !serverGone, let entry = records.first(where: { $0.value.request.guildID == guildID }) else { return }
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
