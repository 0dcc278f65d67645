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
        report: (String) -> Void
    ) async -> Int32 {
        let variables: [String: String]
        do {
            variables = try PipelineEnvironment.load(dotEnvPath: dotEnvPath).variables
        } catch {
            report("cannot read \(dotEnvPath ?? ".env"): \(error)")
            return 2
        }
        return await run(environment: variables, logHandler: logHandler, report: report)
    }

    /// Runs the bot with exactly these settings (tests, or a caller that merged its own environment).
    public static func run(
        environment variables: [String: String],
        logHandler: @escaping @Sendable (String) -> any LogHandler = {
            StreamLogHandler.standardError(label: $0)
        },
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
            let service = try BotService(configuration: configuration, transport: transport, logger: logger)
            if let sessions = service.sessions as? GatewayVoiceSessions { await client.setVoiceHandler(sessions) }
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
