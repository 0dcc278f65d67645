import Discord

/// Where the answer to a command goes.
public enum ReplyTarget: Sendable, Equatable {
    /// A prefix command: answered in the channel it was typed in.
    case channel(Snowflake)
    /// A slash command: answered through the interaction (ephemeral when about the user's own settings).
    case interaction(InteractionHandle)
}

/// Who used a command, where.
public struct CommandContext: Sendable, Equatable {
    public var user: BotUser
    public var guildID: Snowflake?
    public var channelID: Snowflake?
    public var target: ReplyTarget

    public init(user: BotUser, guildID: Snowflake?, channelID: Snowflake?, target: ReplyTarget) {
        self.user = user
        self.guildID = guildID
        self.channelID = channelID
        self.target = target
    }
}

/// A session the manager decided to start; the runner loads the starter's settings and calls the service.
public struct SessionPlan: Sendable, Equatable {
    public var id: VoiceSessionID
    public var guildID: Snowflake
    public var voiceChannelID: Snowflake
    public var textChannelID: Snowflake
    public var starter: BotUser
    public var backendIndex: Int
}

/// What the bot's state machine asks the runner to do. Effects carry finished text: all wording is decided in
/// `BotState` and `BotMessages`, so tests can read it without a transport.
public enum BotEffect: Sendable, Equatable {
    /// A status line in a channel (queued in order behind earlier posts).
    case post(channelID: Snowflake, text: String)
    /// The answer to a command.
    case reply(ReplyTarget, text: String, ephemeral: Bool)
    /// A command that needs the settings store, the voice catalog or the voice layer.
    case runCommand(BotCommand, CommandContext)
    case startSession(SessionPlan)
    case stopSession(VoiceSessionID)
    /// Leave voice in a guild where the bot sits without a session (left over from before a restart).
    case leaveVoice(guildID: Snowflake)
}

/// What the runner feeds the state machine: transport events and the outcome of effects.
public enum BotInput: Sendable, Equatable {
    case event(BotEvent)
    /// The service started the session, with the settings it used.
    case sessionStarted(VoiceSessionID, settings: UserSettings, voiceFallback: String?)
    /// The service could not start it.
    case sessionFailed(VoiceSessionID, VoiceSessionProblem)
    /// A running session ended by itself.
    case sessionEnded(VoiceSessionEnd)
}
