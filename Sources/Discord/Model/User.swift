/// A Discord user as the gateway and REST send it (only the fields the bot uses).
public struct DiscordUser: Codable, Sendable, Equatable {
    public var id: Snowflake
    public var username: String
    public var globalName: String?
    public var bot: Bool?

    public init(id: Snowflake, username: String, globalName: String? = nil, bot: Bool? = nil) {
        self.id = id
        self.username = username
        self.globalName = globalName
        self.bot = bot
    }

    /// `true` for bot accounts (the bot itself and others).
    public var isBot: Bool { bot ?? false }
    /// What to call the user in a message.
    public var displayName: String { globalName ?? username }
}

/// A guild member; `user` is absent in MESSAGE_CREATE's `member` (the author is the user).
public struct GuildMember: Codable, Sendable, Equatable {
    public var user: DiscordUser?
    public var nick: String?

    public init(user: DiscordUser?, nick: String? = nil) {
        self.user = user
        self.nick = nick
    }
}

/// `GET /oauth2/applications/@me` (the fields the bot uses).
public struct DiscordApplication: Codable, Sendable, Equatable {
    public var id: Snowflake
    public var name: String?
    public var flags: Int?
}

/// `GET /gateway/bot`.
public struct GatewayBotInfo: Codable, Sendable, Equatable {
    public struct SessionStartLimit: Codable, Sendable, Equatable {
        public var total: Int
        public var remaining: Int
        /// Milliseconds until `remaining` resets.
        public var resetAfter: Int
        public var maxConcurrency: Int
    }
    public var url: String
    public var shards: Int
    public var sessionStartLimit: SessionStartLimit
}
