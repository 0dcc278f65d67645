import Discord
import Foundation
import Logging

import struct RouterCore.PipelineEnvironment

/// Starts the bot service the way the `router` executable does: configuration from the environment and `.env`, the
/// Discord client, the adapter and the runner, until the gateway stops for good (or the task is cancelled).
/// Configuration problems and fatal gateway errors are one line each, never a stack, never the token.
public enum BotLauncher {
    /// Runs the bot with the process environment over `.env`; returns the process exit code (0 after a clean stop,
    /// 1 when Discord stopped the bot, 2 for a configuration problem). `report` receives the one-line errors
    /// (standard error in the CLI); logs go to `logHandler` (standard error by default), the token redacted.
    public static func run(
        dotEnvPath: String? = ".env",
        logHandler: @escaping @Sendable (String) -> any LogHandler = {
            StreamLogHandler.standardError(label: $0)
        },
        sessions: SessionServiceFactory? = nil,
        stopRequests: AsyncStream<Void>? = nil,
        report: (String) -> Void
    ) async -> Int32 {
        let variables: [String: String]
        do {
            variables = try PipelineEnvironment.load(dotEnvPath: dotEnvPath).variables
        } catch {
            report("cannot read \(dotEnvPath ?? ".env"): \(error)")
            return 2
        }
        return await run(
            environment: variables, logHandler: logHandler, sessions: sessions, stopRequests: stopRequests,
            report: report)
    }

    /// Makes the voice session service once the transport exists (the pipeline runner; `GatewayVoiceSessions`
    /// when nil). If the service also conforms to `VoiceServerUpdates`, it receives the gateway's voice events.
    public typealias SessionServiceFactory =
        @Sendable (_ transport: any BotTransport, _ logger: Logger) throws ->
        any VoiceSessionService

    /// Runs the bot with exactly these settings (tests, or a caller that merged its own environment).
    public static func run(
        environment variables: [String: String],
        logHandler: @escaping @Sendable (String) -> any LogHandler = {
            StreamLogHandler.standardError(label: $0)
        },
        sessions makeSessions: SessionServiceFactory? = nil,
        stopRequests: AsyncStream<Void>? = nil,
        report: (String) -> Void
    ) async -> Int32 {
        let configuration: BotConfiguration
        let discordConfiguration: DiscordConfiguration
        do {
            configuration = try BotConfiguration.parse(variables)
            discordConfiguration = try DiscordConfiguration.fromEnvironment(variables)
        } catch let error as BotConfigurationError {
            for line in error.lines { report(line) }
            return 2
        } catch {
            report("\(error)")
            return 2
        }
        let logger = BotService.logger(configuration: configuration, handler: logHandler)
        do {
            let client = try DiscordClient(configuration: discordConfiguration, logger: logger)
            let transport = DiscordBotTransport(client: client)
            let sessions = try makeSessions?(transport, logger)
            let service = try BotService(
                configuration: configuration, transport: transport, logger: logger, sessions: sessions)
            if let updates = service.sessions as? any VoiceServerUpdates { await client.setVoiceHandler(updates) }
            let failure: (any Error)? = await withTaskGroup(of: (any Error)?.self) { group in
                group.addTask {
                    do {
                        try await client.run()
                        return nil
                    } catch {
                        return error
                    }
                }
                group.addTask {
                    await service.runner.run(events: transport.events())
                    return nil
                }
                if let stopRequests {
                    // SIGTERM/SIGINT: end every session while Discord is still connected (their messages go out,
                    // the bot leaves voice, files close), then stop the rest.
                    group.addTask {
                        for await _ in stopRequests { break }
                        guard !Task.isCancelled else { return nil }
                        if let sessions = service.sessions as? any GracefulSessions { await sessions.endAll() }
                        await service.runner.idle()  // the end messages are posted
                        return nil
                    }
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                service.runner.finish()
                await group.waitForAll()
                return first
            }
            await client.shutdown()
            // Cancelled from outside (Ctrl-C in the CLI): a clean stop, not a failure.
            if let failure, !Task.isCancelled, !(failure is CancellationError) {
                report("\(failure)")
                return 1
            }
            return 0
        } catch {
            report("\(error)")
            return 2
        }
    }
}

/// A session service that can end every session itself, telling the users why (the process is stopping).
public protocol GracefulSessions: Sendable {
    func endAll() async
}
