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
    /// How long after its last heartbeat (or Hello) a connection may stay silent before the gateway closes it
    /// with 4009, as a multiple of `heartbeatIntervalMillis`. Discord documents that a heartbeat not sent in
    /// time closes the connection and that the interval already includes tolerance for latency; 1.5 covers the
    /// first beat's jitter (up to one interval after Hello) plus that tolerance.
    public var heartbeatTimeoutFactor: Double
    /// Added to that window: an allowance for scheduling delays on a loaded test machine, so that clients with
    /// the short intervals tests use are not timed out by a late beat (Discord does not publish its own margin).
    /// A factor of 0 turns the timeout off.
    public var heartbeatTimeoutGraceMillis: Int
    /// The privileged intents enabled for the bot in the "Developer Portal" (bits of GUILD_PRESENCES 1 << 8,
    /// GUILD_MEMBERS 1 << 1, MESSAGE_CONTENT 1 << 15). An Identify asking for any other privileged intent is
    /// closed with 4014.
    public var enabledPrivilegedIntents: Int
    /// `false`: an Identify asking for MESSAGE_CONTENT is closed with 4014 (the intent is not enabled).
    public var messageContentIntentEnabled: Bool {
        get { enabledPrivilegedIntents & GatewayIntent.messageContent != 0 }
        set {
            enabledPrivilegedIntents =
                newValue
                ? enabledPrivilegedIntents | GatewayIntent.messageContent
                : enabledPrivilegedIntents & ~GatewayIntent.messageContent
        }
    }
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
    /// Told of every op 4 a bot sends (after the endpoint was chosen, before the events go out): the voice session
    /// id and the voice token of a join, so the voice simulator can accept them, or `nil` for a leave.
    public var voiceStateChanged:
        @Sendable (_ guildID: UInt64, _ userID: UInt64, _ join: (channelID: UInt64, sessionID: String, token: String)?)
            -> Void
    /// Send VOICE_SERVER_UPDATE before VOICE_STATE_UPDATE (Discord uses either order).
    public var voiceServerFirst: Bool
    /// Interaction callbacks later than this are refused (Discord's 3 s).
    public var interactionDeadlineSeconds: Double
    /// Serve TLS (`https://` REST, `wss://` gateway) instead of plain text; `nil` = `http://` and `ws://`.
    public var tls: SimulatorTLS?

    public init(botToken: String) {
        self.botToken = botToken
        extraBotTokens = []
        botName = "voice-router"
        guildCount = 2
        humansPerGuild = 3
        heartbeatIntervalMillis = 41_250
        heartbeatTimeoutFactor = 1.5
        heartbeatTimeoutGraceMillis = 2_000
        enabledPrivilegedIntents = GatewayIntent.messageContent
        recommendedShards = 1
        sessionStartTotal = 1000
        sessionStartRemaining = 1000
        maxConcurrency = 1
        messageLimit = 5
        messageWindowSeconds = 5
        maxPayloadBytes = 4096
        maxSendsPerMinute = 120
        voiceEndpoint = { _, _, _ in "127.0.0.1:1" }
        voiceStateChanged = { _, _, _ in }
        voiceServerFirst = false
        interactionDeadlineSeconds = 3
        tls = nil
    }
}

/// The simulator's TLS identity: a certificate chain and its key (PEM files), e.g. issued by a test CA that the
/// client trusts through `DISCORD_CA_FILE`. The certificate must name 127.0.0.1 (IP subject alternative name).
public struct SimulatorTLS: Sendable {
    public var certificateChainFile: String
    public var privateKeyFile: String
    /// Which of the two ports speak TLS (both by default).
    public var rest: Bool
    public var gateway: Bool

    public init(certificateChainFile: String, privateKeyFile: String, rest: Bool = true, gateway: Bool = true) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.rest = rest
        self.gateway = gateway
    }
}
