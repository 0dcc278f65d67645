import Discord

/// A Discord user as the bot sees them.
public struct BotUser: Sendable, Equatable {
    public var id: Snowflake
    /// The name to show (server nickname, else global name, else username). Escape it before posting.
    public var name: String
    /// A bot account (never triggers auto-join, never counts as a human in the channel).
    public var isBot: Bool

    public init(id: Snowflake, name: String, isBot: Bool = false) {
        self.id = id
        self.name = name
        self.isBot = isBot
    }
}

/// Where a user's voice is now: `channelID == nil` means in no voice channel of that guild.
public struct VoiceStateChange: Sendable, Equatable {
    public var guildID: Snowflake
    public var user: BotUser
    public var channelID: Snowflake?

    public init(guildID: Snowflake, user: BotUser, channelID: Snowflake?) {
        self.guildID = guildID
        self.user = user
        self.channelID = channelID
    }
}

/// A guild as it becomes available (GUILD_CREATE): names for status lines and who is in voice already.
public struct GuildSnapshot: Sendable, Equatable {
    public var id: Snowflake
    public var name: String
    /// Channel names by id (voice and text), for messages such as "I'm busy in General".
    public var channelNames: [Snowflake: String]
    /// Everyone in a voice channel right now (the bot included, if it is).
    public var voiceStates: [VoiceStateChange]

    public init(
        id: Snowflake, name: String, channelNames: [Snowflake: String] = [:],
        voiceStates: [VoiceStateChange] = []
    ) {
        self.id = id
        self.name = name
        self.channelNames = channelNames
        self.voiceStates = voiceStates
    }
}

/// A message typed in a text chat (MESSAGE_CREATE).
public struct ChatMessage: Sendable, Equatable {
    public var id: Snowflake
    public var guildID: Snowflake?
    public var channelID: Snowflake
    public var author: BotUser
    public var content: String

    public init(id: Snowflake, guildID: Snowflake?, channelID: Snowflake, author: BotUser, content: String) {
        self.id = id
        self.guildID = guildID
        self.channelID = channelID
        self.author = author
        self.content = content
    }
}

/// Names an interaction to answer. The transport keeps the interaction itself (with its token, a credential for
/// 15 minutes) and finds it by id, so the bot never holds the token.
public struct InteractionHandle: Sendable, Equatable, CustomStringConvertible {
    public var id: Snowflake
    public var applicationID: Snowflake

    public init(id: Snowflake, applicationID: Snowflake) {
        self.id = id
        self.applicationID = applicationID
    }

    public var description: String { "interaction \(id)" }
}

/// A slash command invocation (INTERACTION_CREATE of type APPLICATION_COMMAND).
public struct CommandInteraction: Sendable, Equatable {
    public var handle: InteractionHandle
    public var guildID: Snowflake?
    public var channelID: Snowflake?
    public var user: BotUser
    /// The command's name, e.g. `voice-list`.
    public var name: String
    /// String option values by option name.
    public var options: [String: String]

    public init(
        handle: InteractionHandle, guildID: Snowflake?, channelID: Snowflake?, user: BotUser, name: String,
        options: [String: String] = [:]
    ) {
        self.handle = handle
        self.guildID = guildID
        self.channelID = channelID
        self.user = user
        self.name = name
        self.options = options
    }
}

/// Everything the bot reacts to, in the order the transport received it.
public enum BotEvent: Sendable, Equatable {
    /// Connected (READY): the bot's own user id.
    case ready(botUserID: Snowflake)
    /// A guild became available (GUILD_CREATE), with who is in voice.
    case guildAvailable(GuildSnapshot)
    /// A guild went away (outage, or the bot was removed).
    case guildUnavailable(Snowflake)
    /// Someone (a human, another bot, or this bot) joined, moved or left voice.
    case voiceStateChanged(VoiceStateChange)
    /// A text message was posted.
    case messageCreated(ChatMessage)
    /// A slash command was used.
    case interactionCreated(CommandInteraction)
}
