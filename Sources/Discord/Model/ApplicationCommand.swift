/// A slash command for bulk overwrite (`PUT /applications/{id}/commands`), with the fields of Discord's
/// application command object the bot uses (`interactions/application-commands.mdx`).
public struct ApplicationCommand: Codable, Sendable, Equatable {
    /// Where a command can be used (`contexts`): interaction context types.
    public enum Context {
        /// In servers.
        public static let guild = 0
        /// In the DM with the app's bot user.
        public static let botDM = 1
        /// In group DMs and other DMs (user-installed apps only).
        public static let privateChannel = 2
    }

    /// Where the app must be installed for the command to show (`integration_types`).
    public enum IntegrationType {
        public static let guildInstall = 0
        public static let userInstall = 1
    }

    public struct Option: Codable, Sendable, Equatable {
        /// 3 string, 4 integer, 5 boolean, 10 number.
        public var type: Int
        public var name: String
        public var description: String
        public var required: Bool?
        public var choices: [Choice]?
        /// The longest value Discord's client lets a user enter (STRING options, 1…6000); the client refuses
        /// longer input before it reaches the bot.
        public var maxLength: Int?

        public init(
            type: Int = 3, name: String, description: String, required: Bool? = nil,
            choices: [Choice]? = nil, maxLength: Int? = nil
        ) {
            self.type = type
            self.name = name
            self.description = description
            self.required = required
            self.choices = choices
            self.maxLength = maxLength
        }
    }

    public struct Choice: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// 1 = CHAT_INPUT (slash command).
    public var type: Int
    public var name: String
    public var description: String
    public var options: [Option]?
    /// Interaction contexts (`Context`); Discord reads it for global commands only (guild commands never
    /// show outside their guild), so `DiscordREST.overwriteCommands` leaves it out of guild registrations.
    public var contexts: [Int]?
    /// Installation contexts (`IntegrationType`); global commands only, like `contexts`.
    public var integrationTypes: [Int]?

    public init(
        name: String, description: String, options: [Option]? = nil, contexts: [Int]? = nil,
        integrationTypes: [Int]? = nil
    ) {
        type = 1
        self.name = name
        self.description = description
        self.options = options
        self.contexts = contexts
        self.integrationTypes = integrationTypes
    }

    /// The same command for a guild-scoped registration, without the global-only fields.
    var guildScoped: ApplicationCommand {
        var copy = self
        copy.contexts = nil
        copy.integrationTypes = nil
        return copy
    }
}
