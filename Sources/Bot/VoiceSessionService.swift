import Discord
import PersonaPlex

/// The voice side of a session, as the bot's session manager sees it: the manager decides who gets which
/// backend and when; the service makes it happen (joins the channel, runs the audio graph against the backend)
/// and reports back when a session ends on its own. The audio graph arrives in a later issue; until then
/// `GatewayVoiceSessions` does what can be done today.
public protocol VoiceSessionService: Sendable {
    /// Starts a session and returns once it is running, or throws why it could not start (having undone any
    /// partial start, e.g. left the voice channel again). `onEnd` is called at most once, and only for an end the
    /// service noticed itself (the AI server dropped, the voice connection died) — not after `stop` — and only once
    /// the service has left voice for it (or was removed), so the bot may start the guild's next session at once.
    func start(
        _ request: VoiceSessionRequest,
        onEnd: @escaping @Sendable (VoiceSessionEnd) async -> Void) async throws(VoiceSessionProblem)
    /// Ends a session the manager no longer wants (everyone left, `leave`): closes the audio and leaves voice.
    func stop(_ sessionID: VoiceSessionID) async
    /// The voice channel's end-to-end encryption privacy code, when a session in `guildID` has one.
    func privacyCode(guildID: Snowflake) async -> String?
}

/// Identifies one session for its whole life (never reused within a process).
public struct VoiceSessionID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "s\(rawValue)" }
}

/// Everything a session needs to start.
public struct VoiceSessionRequest: Sendable, Equatable {
    public var id: VoiceSessionID
    public var guildID: Snowflake
    public var voiceChannelID: Snowflake
    /// Where status and the AI's sentences go (the voice channel's own chat, or `STATUS_CHANNEL_ID`).
    public var textChannelID: Snowflake
    /// Who started it: their settings are the session's.
    public var starter: BotUser
    public var settings: UserSettings
    public var backend: PersonaPlexEndpoint
    /// 0-based index into `PERSONAPLEX_URL`'s list.
    public var backendIndex: Int

    public init(
        id: VoiceSessionID, guildID: Snowflake, voiceChannelID: Snowflake, textChannelID: Snowflake,
        starter: BotUser, settings: UserSettings, backend: PersonaPlexEndpoint, backendIndex: Int
    ) {
        self.id = id
        self.guildID = guildID
        self.voiceChannelID = voiceChannelID
        self.textChannelID = textChannelID
        self.starter = starter
        self.settings = settings
        self.backend = backend
        self.backendIndex = backendIndex
    }
}

/// Why a session could not start, or stopped by itself. `detail` is for the log; users get `BotMessages`' words.
public enum VoiceSessionProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing answers at the backend's address (refused, timed out, DNS failure).
    case backendUnreachable(detail: String)
    /// The backend serves another client (PersonaPlex holds one session at a time and makes others wait).
    case backendBusy
    /// The backend closed the session or refused the prompts.
    case backendClosed(detail: String)
    /// Joining the voice channel failed (no permission, channel full, gateway down).
    case voiceJoinFailed(detail: String)
    /// The voice connection was lost.
    case voiceLost(detail: String)
    /// The pipeline file could not run for this session (a node refused its values or failed).
    case pipelineFailed(detail: String)
    /// The process is stopping (SIGTERM): every session ends.
    case shuttingDown

    public var description: String {
        switch self {
        case let .backendUnreachable(detail): return "AI server unreachable: \(detail)"
        case .backendBusy: return "AI server busy with another client"
        case let .backendClosed(detail): return "AI server closed the session: \(detail)"
        case let .voiceJoinFailed(detail): return "joining voice failed: \(detail)"
        case let .voiceLost(detail): return "voice connection lost: \(detail)"
        case let .pipelineFailed(detail): return "the pipeline failed: \(detail)"
        case .shuttingDown: return "the bot is shutting down"
        }
    }
}

/// A session that ended on its own.
public struct VoiceSessionEnd: Sendable, Equatable {
    public var id: VoiceSessionID
    public var problem: VoiceSessionProblem

    public init(id: VoiceSessionID, problem: VoiceSessionProblem) {
        self.id = id
        self.problem = problem
    }
}
