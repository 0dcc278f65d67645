/// A setting the bot cannot start with, worded as one line for the operator. The token is never part of any case:
/// its problems are described, never quoted.
public enum BotConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `DISCORD_TOKEN` is not set or empty.
    case missingToken
    /// `DISCORD_TOKEN` does not have the shape of a bot token.
    case malformedToken(reason: String)
    /// A setting has a value the bot does not understand. `value` is already shortened and made printable.
    case invalidValue(setting: String, value: String, expected: String)
    /// The `.env` file could not be read or parsed.
    case unreadableDotEnv(path: String, reason: String)
    /// Several of the above at once (each reported on its own line).
    case several([BotConfigurationError])

    public var description: String {
        switch self {
        case .missingToken:
            return "DISCORD_TOKEN is not set: put the bot token from the Developer Portal (Bot → Reset Token) "
                + "in the environment or in .env"
        case let .malformedToken(reason):
            return "DISCORD_TOKEN is malformed: \(reason); copy it again from the Developer Portal "
                + "(Bot → Reset Token)"
        case let .invalidValue(setting, value, expected):
            return "\(setting)=\(value) is not valid: \(expected)"
        case let .unreadableDotEnv(path, reason):
            return "cannot read \(path): \(reason)"
        case let .several(problems):
            return problems.map(\.description).joined(separator: "\n")
        }
    }

    /// Every problem as its own line.
    public var lines: [String] {
        if case let .several(problems) = self { return problems.flatMap(\.lines) }
        return [description]
    }

    /// A value fit to quote in a message: at most 60 characters, control characters replaced.
    static func quoted(_ value: String) -> String {
        let printable = String(
            value.unicodeScalars.map {
                $0.properties.generalCategory == .control ? "?" : Character($0)
            })
        return printable.count > 60 ? "'\(printable.prefix(57))...'" : "'\(printable)'"
    }
}
