import Discord
import Logging

/// Puts the bot together from its configuration: the settings store, the voice catalog, the session service and
/// the runner. The transport (the Discord library, or a test double) is passed in.
public struct BotService: Sendable {
    public let configuration: BotConfiguration
    public let runner: BotRunner
    public let store: SettingsStore
    public let sessions: any VoiceSessionService

    /// Opens the settings database and lists the voices; throws a one-line error when either fails.
    /// `sessions` defaults to `GatewayVoiceSessions` over the transport's op 4.
    public init(
        configuration: BotConfiguration, transport: any BotTransport, logger: Logger,
        sessions: (any VoiceSessionService)? = nil
    ) throws {
        self.configuration = configuration
        store = try SettingsStore(directory: configuration.dataDirectory, defaults: configuration.defaults)
        let catalog = try configuration.voiceCatalog()
        let service = sessions ?? GatewayVoiceSessions(voice: transport.voiceControl, logger: logger)
        self.sessions = service
        let handler = CommandHandler(
            store: store, catalog: catalog, prefix: configuration.commandPrefix,
            sessions: service, logger: logger)
        runner = BotRunner(
            transport: transport, sessions: service, handler: handler,
            backends: configuration.backends, statusChannelID: configuration.statusChannelID,
            commandGuildID: configuration.commandGuildID, logger: logger)
        logger.info(
            "bot ready to run",
            metadata: [
                "backends": "\(configuration.backends.count)", "voices": "\(catalog.voices.count)",
                "settings": "\(store.path)", "prefix": "\(configuration.commandPrefix)",
            ])
    }

    /// A logger for the bot whose output never contains the token.
    public static func logger(
        label: String = "bot", configuration: BotConfiguration,
        handler: (String) -> any LogHandler = { StreamLogHandler.standardError(label: $0) }
    )
        -> Logger
    {
        let secret = configuration.token.secret
        var logger = Logger(label: label) { RedactingLogHandler(wrapping: handler($0), secrets: [secret]) }
        logger.logLevel = configuration.logLevel
        return logger
    }
}
