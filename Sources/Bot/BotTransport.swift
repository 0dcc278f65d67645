import Discord

/// What the bot needs from Discord, and nothing more: the Discord library is adapted to this (see
/// `DiscordBotTransport`), and tests put a double in its place. Every message must go out with mentions
/// disabled (`allowed_mentions: {"parse": []}`), and text over Discord's limit must be split by the transport.
public protocol BotTransport: Sendable {
    /// Posts `content` in a text channel (or a voice channel's own text chat).
    func send(_ content: String, to channelID: Snowflake) async throws
    /// Answers an interaction with a message (within 3 s of its arrival).
    func respond(to interaction: InteractionHandle, with content: String, ephemeral: Bool) async throws
    /// Answers an interaction with "thinking…" (within 3 s); the answer follows with `followUp`.
    func deferResponse(to interaction: InteractionHandle, ephemeral: Bool) async throws
    /// Sends the answer to a deferred interaction (or a further message).
    func followUp(to interaction: InteractionHandle, with content: String, ephemeral: Bool) async throws
    /// Replaces the application's slash commands (bulk overwrite) in `guildID`, or globally when `nil`.
    func registerCommands(_ commands: [SlashCommand], guildID: Snowflake?) async throws
    /// Op 4: join, move or leave voice in a guild.
    var voiceControl: any VoiceChannelControl { get }
}

/// A slash command definition, encoded as Discord's application command JSON (type 1, CHAT_INPUT).
public struct SlashCommand: Sendable, Equatable, Encodable {
    public var name: String
    public var description: String
    public var options: [SlashCommandOption]
    /// CHAT_INPUT.
    public var type = 1
    /// Usable in guilds only (interaction context type GUILD): the bot's voice features need a guild.
    public var contexts = [ApplicationCommand.Context.guild]
    /// Offered where the app is installed to a server (GUILD_INSTALL), not to a user's account.
    public var integrationTypes = [ApplicationCommand.IntegrationType.guildInstall]

    public init(name: String, description: String, options: [SlashCommandOption] = []) {
        self.name = name
        self.description = description
        self.options = options
    }

    enum CodingKeys: String, CodingKey {
        case name, description, options, type, contexts
        case integrationTypes = "integration_types"
    }
}

/// A string option of a slash command.
public struct SlashCommandOption: Sendable, Equatable, Encodable {
    public struct Choice: Sendable, Equatable, Encodable {
        public var name: String
        public var value: String
    }

    public var name: String
    public var description: String
    public var required: Bool
    public var choices: [Choice]?
    public var maxLength: Int?
    /// STRING.
    public var type = 3

    public init(name: String, description: String, required: Bool, choices: [Choice]? = nil, maxLength: Int? = nil) {
        self.name = name
        self.description = description
        self.required = required
        self.choices = choices
        self.maxLength = maxLength
    }

    enum CodingKeys: String, CodingKey {
        case name, description, required, choices, type
        case maxLength = "max_length"
    }
}
