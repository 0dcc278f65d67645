/// An interaction token: a secret for 15 minutes (it authorises replies), so every printed form is redacted.
public struct InteractionToken: Codable, Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    let secret: String

    public init(from decoder: any Decoder) throws {
        secret = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(secret)
    }

    init(_ secret: String) { self.secret = secret }

    public var description: String { "<interaction token redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// INTERACTION_CREATE (application commands).
public struct Interaction: Codable, Sendable, Equatable {
    /// 2 = application command (slash command), 1 = ping, 3 = component, 4 = autocomplete, 5 = modal.
    public var type: Int
    public var id: Snowflake
    public var applicationId: Snowflake
    public var token: InteractionToken
    public var guildId: Snowflake?
    public var channelId: Snowflake?
    /// Set in guilds; `user` is set in DMs.
    public var member: GuildMember?
    public var user: DiscordUser?
    public var data: CommandData?

    /// Who invoked it.
    public var invoker: DiscordUser? { member?.user ?? user }

    public struct CommandData: Codable, Sendable, Equatable {
        public var name: String
        public var options: [CommandOption]?

        /// The value of the option named `name`, as text.
        public func option(_ name: String) -> String? {
            options?.first { $0.name == name }?.value?.text
        }
    }

    public struct CommandOption: Codable, Sendable, Equatable {
        public var name: String
        public var type: Int
        public var value: OptionValue?
    }

    /// An option value: string, integer, number or boolean on the wire.
    public enum OptionValue: Codable, Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case number(Double)
        case bool(Bool)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int64.self) {
                self = .integer(value)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else {
                self = .string(try container.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .string(value): try container.encode(value)
            case let .integer(value): try container.encode(value)
            case let .number(value): try container.encode(value)
            case let .bool(value): try container.encode(value)
            }
        }

        public var text: String {
            switch self {
            case let .string(value): return value
            case let .integer(value): return String(value)
            case let .number(value): return String(value)
            case let .bool(value): return String(value)
            }
        }
    }
}
