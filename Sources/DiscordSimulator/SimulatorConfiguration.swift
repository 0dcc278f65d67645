/// How the simulated Discord behaves. Defaults match Discord's documented values where one exists.
public struct SimulatorConfiguration: Sendable {
    /// The token bots must present (REST `Authorization: Bot …`, gateway Identify/Resume).
    public var botToken: String
    /// Additional accepted bot tokens (a second bot, e.g. discord.py), each with its own user.
    public var extraBotTokens: [String]
    public var botName: String
    /// Number of guilds created at start, each with a text channel, two voice channels and `humansPerGuild` humans.
    public var guildCount: Int
    public var humansPerGuild: Int
    /// op 10's `heartbeat_interval` in milliseconds.
    public var heartbeatIntervalMillis: Int
    /// `false`: an Identify asking for MESSAGE_CONTENT is closed with 4014 (the intent is not enabled).
    public var messageContentIntentEnabled: Bool
    /// GET /gateway/bot `shards` (Discord's recommendation).
    public var recommendedShards: Int
    public var sessionStartTotal: Int
    public var sessionStartRemaining: Int
    public var maxConcurrency: Int
    /// Per-channel message bucket: `messageLimit` requests per `messageWindowSeconds`.
    public var messageLimit: Int
    public var messageWindowSeconds: Double
    /// Discord's gateway limits: payload bytes (4002 beyond) and sends per 60 s per connection (4008 beyond).
    public var maxPayloadBytes: Int
    public var maxSendsPerMinute: Int
    /// VOICE_SERVER_UPDATE's endpoint for a join (`nil` = `null`). The voice simulator plugs in here.
    public var voiceEndpoint: @Sendable (_ guildID: UInt64, _ channelID: UInt64, _ userID: UInt64) -> String?
    /// Send VOICE_SERVER_UPDATE before VOICE_STATE_UPDATE (Discord uses either order).
    public var voiceServerFirst: Bool
    /// Told of every voice session a join hands out (user, VOICE_STATE_UPDATE's `session_id`, VOICE_SERVER_UPDATE's
    /// `token`) before the events go out, so a `SimulatedVoiceServer` can accept that Identify (`grant`).
    public var voiceSessionGranted: @Sendable (_ userID: UInt64, _ sessionID: String, _ token: String) -> Void
    /// Interaction callbacks later than this are refused (Discord's 3 s).
    public var interactionDeadlineSeconds: Double

    public init(botToken: String) {
        self.botToken = botToken
        extraBotTokens = []
        botName = "voice-router"
        guildCount = 2
        humansPerGuild = 3
        heartbeatIntervalMillis = 41_250
        messageContentIntentEnabled = true
        recommendedShards = 1
        sessionStartTotal = 1000
        sessionStartRemaining = 1000
        maxConcurrency = 1
        messageLimit = 5
        messageWindowSeconds = 5
        maxPayloadBytes = 4096
        maxSendsPerMinute = 120
        voiceEndpoint = { _, _, _ in "127.0.0.1:1" }
        voiceServerFirst = false
        voiceSessionGranted = { _, _, _ in }
        interactionDeadlineSeconds = 3
    }
}
