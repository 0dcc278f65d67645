/// A guild channel (text, voice, stage, category …).
public struct DiscordChannel: Codable, Sendable, Equatable {
    public var id: Snowflake
    /// 0 text, 2 voice, 4 category, 13 stage, … (Discord's channel types).
    public var type: Int
    public var name: String?
    public var guildId: Snowflake?
    public var parentId: Snowflake?

    public init(id: Snowflake, type: Int, name: String?, guildId: Snowflake? = nil, parentId: Snowflake? = nil) {
        self.id = id
        self.type = type
        self.name = name
        self.guildId = guildId
        self.parentId = parentId
    }

    /// Voice or stage: a channel the bot can join.
    public var isVoice: Bool { type == 2 || type == 13 }
}

/// A voice state: who is in which voice channel of a guild (`channelId == nil` = left).
public struct VoiceState: Codable, Sendable, Equatable {
    public var guildId: Snowflake?
    public var channelId: Snowflake?
    public var userId: Snowflake
    public var sessionId: String
    public var member: GuildMember?
    public var selfMute: Bool?
    public var selfDeaf: Bool?

    public init(
        guildId: Snowflake?, channelId: Snowflake?, userId: Snowflake, sessionId: String,
        member: GuildMember? = nil
    ) {
        self.guildId = guildId
        self.channelId = channelId
        self.userId = userId
        self.sessionId = sessionId
        self.member = member
    }
}

/// GUILD_CREATE: a guild with the channels, members and voice states the bot needs.
public struct Guild: Codable, Sendable, Equatable {
    public var id: Snowflake
    public var name: String?
    public var unavailable: Bool?
    public var channels: [DiscordChannel]?
    public var members: [GuildMember]?
    public var voiceStates: [VoiceState]?
}

/// An entry of READY's `guilds` or a GUILD_DELETE.
public struct UnavailableGuild: Codable, Sendable, Equatable {
    public var id: Snowflake
    public var unavailable: Bool?
}

/// VOICE_SERVER_UPDATE. `endpoint == nil` means the voice server went away: wait for another update.
public struct VoiceServerUpdate: Codable, Sendable, Equatable, CustomStringConvertible {
    public var token: String
    public var guildId: Snowflake
    public var endpoint: String?

    public var description: String { "voice server update for guild \(guildId) endpoint \(endpoint ?? "null")" }
}

/// READY (the fields a bot needs).
public struct ReadyEvent: Codable, Sendable, Equatable {
    public struct PartialApplication: Codable, Sendable, Equatable {
        public var id: Snowflake
    }
    public var user: DiscordUser
    public var sessionId: String
    public var resumeGatewayUrl: String
    public var guilds: [UnavailableGuild]
    public var application: PartialApplication?
    public var shard: [Int]?
}
