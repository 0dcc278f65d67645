/// MESSAGE_CREATE, or the answer to `POST /channels/{id}/messages`.
public struct DiscordMessage: Codable, Sendable, Equatable {
    public var id: Snowflake
    public var channelId: Snowflake
    public var guildId: Snowflake?
    public var author: DiscordUser
    public var content: String
    public var member: GuildMember?
    public var nonce: MessageNonce?
}

/// A message nonce: Discord echoes what was sent, a string or an integer.
public enum MessageNonce: Codable, Sendable, Equatable {
    case string(String)
    case integer(Int64)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .string(value): try container.encode(value)
        case let .integer(value): try container.encode(value)
        }
    }
}
