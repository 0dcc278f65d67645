import Foundation

/// The bot token: a secret. Every textual form of this value (`description`, `debugDescription`, string
/// interpolation, `dump`, `Mirror`) prints `[redacted]`; only `secret` gives the token, for the transport's
/// `Authorization` header and the gateway's Identify.
public struct BotToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The token itself. Never log or format it.
    public let secret: String

    /// Checks the shape of `raw` without ever putting it in an error. A bot token is three dot-separated parts of
    /// URL-safe base64 (the bot's id, a timestamp, an HMAC); pasted quotes or spaces are common mistakes.
    public init(_ raw: String) throws(BotConfigurationError) {
        var token = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        // A pasted `Bot ` prefix (as in the Authorization header) is dropped, as the Discord library does.
        if token.hasPrefix("Bot ") { token = String(token.dropFirst(4)) }
        guard !token.isEmpty else { throw .missingToken }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw .malformedToken(reason: "a bot token has three parts separated by dots")
        }
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
        guard token.allSatisfy({ allowed.contains($0) }) else {
            throw .malformedToken(reason: "it contains characters a token never has (spaces, quotes or others)")
        }
        guard token.count <= 256 else { throw .malformedToken(reason: "it is far longer than a bot token") }
        secret = token
    }

    public var description: String { "[redacted]" }
    public var debugDescription: String { "BotToken([redacted])" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
