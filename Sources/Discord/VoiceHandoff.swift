/// The seam between the main gateway (this module) and the voice connection (`DiscordVoice`): the gateway collects
/// the bot's own VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE for a guild (either order) and hands the pair over;
/// the voice layer asks the gateway to join, move or leave through op 4. Neither side knows the other's type.

/// A Discord id (a 64-bit snowflake, sent as a JSON string).
public struct Snowflake: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// Parses the decimal string form Discord sends; `nil` for anything else.
    public init?(_ string: String) {
        guard let value = UInt64(string) else { return nil }
        rawValue = value
    }
    public var description: String { String(rawValue) }
    public static func < (a: Snowflake, b: Snowflake) -> Bool { a.rawValue < b.rawValue }
}

extension Snowflake: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            rawValue = number
            return
        }
        let string = try container.decode(String.self)
        guard let value = UInt64(string) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a snowflake: \(string.prefix(32))")
        }
        rawValue = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Everything a voice connection needs to open (or re-open) the voice gateway for one guild.
public struct VoiceServerInfo: Sendable, Equatable, CustomStringConvertible {
    public var guildID: Snowflake
    public var channelID: Snowflake
    /// The bot's own user id.
    public var userID: Snowflake
    /// From the bot's VOICE_STATE_UPDATE.
    public var sessionID: String
    /// From VOICE_SERVER_UPDATE. A secret: never logged (`description` leaves it out).
    public var token: String
    /// `host:port`, no scheme, from VOICE_SERVER_UPDATE (never `null` here: a `null` endpoint is waited out).
    public var endpoint: String

    public init(
        guildID: Snowflake, channelID: Snowflake, userID: Snowflake, sessionID: String, token: String, endpoint: String
    ) {
        self.guildID = guildID
        self.channelID = channelID
        self.userID = userID
        self.sessionID = sessionID
        self.token = token
        self.endpoint = endpoint
    }

    public var description: String {
        "voice server \(endpoint) for guild \(guildID) channel \(channelID) (session \(sessionID.prefix(8))…)"
    }
}

/// Implemented by the voice layer: what the gateway tells it about the bot's voice session in a guild.
public protocol VoiceServerUpdates: Sendable {
    /// A complete pair arrived: the first join, a move to another channel, or a voice server change.
    /// A move or a server change always brings a new token: the voice connection starts a new session.
    func voiceServerReady(_ info: VoiceServerInfo) async
    /// The bot's voice state says it is in no channel of this guild any more (kicked, left, disconnected),
    /// or the voice server went away (`endpoint: null`) and a new one has not arrived yet.
    func voiceDisconnected(guildID: Snowflake, serverGone: Bool) async
}

/// Implemented by the gateway: op 4 (Voice State Update) on the shard that owns the guild.
public protocol VoiceChannelControl: Sendable {
    /// Joins or moves to `channelID`, or leaves with `nil`.
    func updateVoiceState(guildID: Snowflake, channelID: Snowflake?, selfMute: Bool, selfDeaf: Bool) async throws
}
