import ArgumentParser
import Bridge
import Demo
import Foundation
import RouterCore

/// `router run` of a pipeline with DiscordIn/DiscordOut: the bot (one graph per voice session) with a
/// `DISCORD_TOKEN`, the demo against the built-in simulator and PersonaPlex stand-in without one.
enum BridgeRun {
    /// - Parameter explicitLogLevel: `--log-level` was given (the demo otherwise shows only warnings from nodes).
    static func run(file: String, variables: [String: String], explicitLogLevel: Bool) async throws {
        let pipeline: BridgePipeline
        do {
            pipeline = try BridgePipeline(path: file, environment: PipelineEnvironment(variables))
        } catch let errors as PipelineErrors {
            printError(errors.description)
            throw ExitCode(1)
        }
        let (stopRequests, stopper) = AsyncStream<Void>.makeStream()
        let signals = SignalTrap { stopper.yield() }
        defer { withExtendedLifetime(signals) {} }
        guard let token = variables["DISCORD_TOKEN"], !token.isEmpty else {
            if !explicitLogLevel { RouterLog.shared.level = .warning }  // the narration tells the story
            say(demoBanner)
            do {
                let report = try await BridgeDemo.run(
                    pipeline: pipeline, environment: variables, say: { say($0) })
                guard report.exitCode == 0, !report.summaries.isEmpty else { throw ExitCode(1) }
            } catch let error as DemoError {
                printError("demo: \(error)")
                throw ExitCode(1)
            }
            return
        }
        let code = await BridgeLauncher.run(
            pipeline: pipeline, environment: variables, stopRequests: stopRequests,
            report: { printError("error: " + $0) })
        if code != 0 { throw ExitCode(code) }
    }

    static let demoBanner = """
        No DISCORD_TOKEN is set, so this is the demo: the bot and this pipeline run against the built-in Discord
        simulator and the built-in PersonaPlex stand-in (it speaks PersonaPlex's protocol but only echoes what it
        hears and captions how long you spoke; it is not the model).
        To connect to real Discord: create a bot at https://discord.com/developers/applications, put
        DISCORD_TOKEN=... in .env (see .env.example), point PERSONAPLEX_URL at your PersonaPlex server
        (wss://HOST:8998/api/chat), invite the bot to your server and run this command again.

        """
}

/// Writes a line to standard output at once (print buffers when piped; the logs on standard error do not).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
