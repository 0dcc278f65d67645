import Foundation

/// The bot token. Its text is reachable only through `authorizationHeader` and the Identify/Resume payloads;
/// every printed form (`description`, `debugDescription`, string interpolation, `dump`) is redacted.
public struct DiscordToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    let secret: String

    /// Accepts a token as pasted from the Developer Portal: surrounding whitespace and a `Bot ` prefix are removed.
    /// Refuses an empty value and characters that could break an HTTP header or a JSON string.
    public init(_ raw: String) throws(DiscordError) {
        var value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if value.hasPrefix("Bot ") { value.removeFirst(4) }
        guard !value.isEmpty else { throw .invalidToken(reason: "DISCORD_TOKEN is empty") }
        guard value.utf8.count <= 512 else { throw .invalidToken(reason: "DISCORD_TOKEN is longer than 512 bytes") }
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != 0x5C }) else {
            throw .invalidToken(reason: "DISCORD_TOKEN contains spaces, quotes or non-ASCII characters")
        }
        secret = value
    }

    /// `Bot <token>`, for the `Authorization` header.
    var authorizationHeader: String { "Bot " + secret }

    public var description: String { "<discord token redacted>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
