import DiscordSimulator
import Foundation

// Runs the Discord simulator on loopback for demos and manual tests:
//   discord-simulator [--port N] [--guilds N] [--heartbeat-ms N]
// The bot token it accepts comes from DISCORD_TOKEN (never printed).
let arguments = CommandLine.arguments.dropFirst()
func value(_ name: String) -> Int? {
    guard let index = arguments.firstIndex(of: name), arguments.index(after: index) < arguments.endIndex else {
        return nil
    }
    return Int(arguments[arguments.index(after: index)])
}
guard let token = ProcessInfo.processInfo.environment["DISCORD_TOKEN"], !token.isEmpty else {
    FileHandle.standardError.write(Data("discord-simulator: set DISCORD_TOKEN to the token the bot will use\n".utf8))
    exit(2)
}
var configuration = SimulatorConfiguration(botToken: token)
configuration.guildCount = value("--guilds") ?? 2
if let heartbeat = value("--heartbeat-ms") { configuration.heartbeatIntervalMillis = heartbeat }
let simulator = DiscordSimulator(configuration: configuration)
try await simulator.run(port: value("--port") ?? 0) { port in
    // Unbuffered, so a parent process reading the pipe sees the lines at once.
    FileHandle.standardOutput.write(
        Data(
            """
            DISCORD_API_BASE=http://127.0.0.1:\(port)/api/v10
            DISCORD_GATEWAY_URL=\(simulator.gatewayURL)

            """.utf8))
}
