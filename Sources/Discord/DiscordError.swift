/// Everything the Discord client can fail with. Every message says what happened and, where the user can act,
/// what to do; none contains the token.
public enum DiscordError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidToken(reason: String)
    case invalidConfiguration(String)
    /// The gateway closed with a code after which reconnecting cannot help (4004, 4010–4014).
    case gatewayFatal(code: Int, message: String)
    /// REST answered 401: the token is wrong or was reset.
    case unauthorized(route: String)
    case httpStatus(route: String, status: Int, message: String)
    case rateLimitRetriesExhausted(route: String)
    case malformedResponse(route: String, reason: String)
    /// A gateway payload over Discord's 4096-byte limit; it was not sent.
    case payloadTooLarge(bytes: Int)
    case notConnected(shard: Int)
    case voiceTimeout(guild: Snowflake)
    case unknownGuild(Snowflake)
    case connectionFailed(url: String, reason: String)
    /// No connection could be made to Discord (or the endpoint standing in for it) in `attempts` tries at start;
    /// `setting` names the configuration that points there.
    case unreachable(url: String, reason: String, attempts: Int, setting: String)

    public var description: String {
        switch self {
        case let .invalidToken(reason):
            return "invalid Discord token: \(reason)"
        case let .invalidConfiguration(message):
            return message
        case let .gatewayFatal(code, message):
            return "Discord gateway closed with \(code): \(message)"
        case let .unauthorized(route):
            return "Discord rejected the token (401 on \(route)): set DISCORD_TOKEN to the bot token from the "
                + "Developer Portal (Bot → Reset Token)"
        case let .httpStatus(route, status, message):
            return "Discord answered \(status) on \(route): \(message)"
        case let .rateLimitRetriesExhausted(route):
            return "Discord kept rate-limiting \(route); gave up after several retries"
        case let .malformedResponse(route, reason):
            return "Discord sent a response on \(route) that could not be read: \(reason)"
        case let .payloadTooLarge(bytes):
            return "gateway payload of \(bytes) bytes exceeds Discord's 4096-byte limit; not sent"
        case let .notConnected(shard):
            return "shard \(shard) is not connected to the Discord gateway"
        case let .voiceTimeout(guild):
            return "no voice state/server update from Discord for guild \(guild) in time "
                + "(channel full, missing Connect permission, or Discord is slow)"
        case let .unknownGuild(guild):
            return "guild \(guild) is not served by this process's shards"
        case let .connectionFailed(url, reason):
            return "cannot connect to \(url): \(reason)"
        case let .unreachable(url, reason, attempts, setting):
            return "Discord is unreachable at \(url): \(reason) (\(attempts) attempts); check \(setting) "
                + "and the network"
        }
    }
}
