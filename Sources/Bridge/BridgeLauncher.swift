import Bot
import DiscordVoice
import Logging
import NIOSSL
import RouterCore

/// `router run` of a pipeline with DiscordIn/DiscordOut and a `DISCORD_TOKEN`: the bot, with one graph instance of
/// the pipeline per voice session.
public enum BridgeLauncher {
    /// Runs the bot until Discord stops it, the task is cancelled, or `stopRequests` yields (SIGTERM: every session
    /// ends cleanly first). Returns the process exit code (see `BotLauncher.run`).
    public static func run(
        pipeline: BridgePipeline, environment: [String: String], stopRequests: AsyncStream<Void>? = nil,
        onSummary: @escaping @Sendable (SessionSummary) -> Void = { _ in },
        logHandler: @escaping @Sendable (String) -> any LogHandler = { StreamLogHandler.standardError(label: $0) },
        report: (String) -> Void
    ) async -> Int32 {
        var options = PipelineVoiceSessions.Options(voice: voiceConfiguration(environment))
        options.metricsInterval = pipeline.metricsInterval
        options.onSummary = onSummary
        let settings = options
        return await BotLauncher.run(
            environment: environment, logHandler: logHandler,
            sessions: { transport, logger in
                PipelineVoiceSessions(pipeline: pipeline, transport: transport, options: settings, logger: logger)
            },
            stopRequests: stopRequests, report: report)
    }

    /// The voice connection's settings from the same variables the Discord client reads (`DISCORD_VOICE_SCHEME`,
    /// `DISCORD_CA_FILE`; the client has already checked both).
    static func voiceConfiguration(_ environment: [String: String]) -> VoiceConnectionConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = environment["DISCORD_CA_FILE"], !ca.isEmpty { tls.additionalTrustRoots = [.file(ca)] }
        return VoiceConnectionConfiguration(secure: environment["DISCORD_VOICE_SCHEME"] != "ws", tls: tls)
    }
}
