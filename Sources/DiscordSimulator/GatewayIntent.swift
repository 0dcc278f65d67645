/// Gateway intent bits (`events/gateway.mdx`, "List of Intents") and which dispatches each one gates.
public enum GatewayIntent {
    public static let guilds = 1 << 0
    public static let guildMembers = 1 << 1
    public static let guildVoiceStates = 1 << 7
    public static let guildPresences = 1 << 8
    public static let guildMessages = 1 << 9
    public static let messageContent = 1 << 15
    /// Intents that must be enabled for the app before an Identify may ask for them (else close 4014).
    public static let privileged = guildMembers | guildPresences | messageContent

    /// The intent a guild dispatch needs, or `nil` for events every session receives (READY, RESUMED,
    /// INTERACTION_CREATE, VOICE_SERVER_UPDATE, …). MESSAGE_CONTENT gates no event, only message fields.
    static func required(for event: String) -> Int? {
        switch event {
        case "GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE", "CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE":
            return guilds
        case "GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE":
            return guildMembers
        case "VOICE_STATE_UPDATE":
            return guildVoiceStates
        case "PRESENCE_UPDATE":
            return guildPresences
        case "MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK":
            return guildMessages
        default:
            return nil
        }
    }
}
