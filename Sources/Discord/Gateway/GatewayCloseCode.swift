/// What a gateway close (or a dropped connection) means for the next connection.
enum GatewayCloseAction: Equatable {
    /// Open `resume_gateway_url` and send Resume.
    case resume
    /// Start a new session: Identify.
    case reidentify
    /// Stop: reconnecting cannot help; the message says what to do.
    case fatal(String)
}

/// Discord's gateway close codes (`topics/opcodes-and-status-codes`).
enum GatewayCloseCode {
    static func action(for code: Int?) -> GatewayCloseAction {
        guard let code else { return .resume }
        switch code {
        case 4004:
            return .fatal(
                "authentication failed: the token is wrong or was reset; set DISCORD_TOKEN to the "
                    + "current bot token from the Developer Portal (Bot → Reset Token)")
        case 4010:
            return .fatal("invalid shard: SHARD_IDS must be below SHARD_COUNT")
        case 4011:
            return .fatal(
                "sharding required: the bot is in too many guilds for one shard; unset SHARD_COUNT to "
                    + "use Discord's recommendation or raise it")
        case 4012:
            return .fatal("invalid API version: this client speaks gateway v10; check DISCORD_GATEWAY_URL")
        case 4013:
            return .fatal("invalid intents: the Identify intents value is not valid")
        case 4014:
            return .fatal(
                "disallowed intents: enable the Message Content intent (Privileged Gateway Intents) "
                    + "for this bot in the Discord Developer Portal, Bot tab")
        case 4007, 4009:
            // Invalid seq / session timed out: the session is gone.
            return .reidentify
        case 1000, 1001:
            // A normal close from the server's side invalidates the session.
            return .reidentify
        default:
            // 4000–4003, 4005, 4008, other 1xxx (network): try to resume.
            return .resume
        }
    }
}
