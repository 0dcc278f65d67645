import DiscordSimulator
import Foundation

// Runs the Discord simulator on loopback for demos and manual tests:
//   discord-simulator [--port N] [--guilds N] [--heartbeat-ms N] [--tls-cert CHAIN.pem --tls-key KEY.pem]
// The bot token it accepts comes from DISCORD_TOKEN (never printed). With --tls-cert/--tls-key it serves https and
// wss (point the bot's DISCORD_CA_FILE at the CA that issued the certificate).
let arguments = CommandLine.arguments.dropFirst()
func value(_ name: String) -> Int? {
    guard let index = arguments.firstIndex(of: name), arguments.index(after: index) < arguments.endIndex else {
        return nil
    }
    return Int(arguments[arguments.index(after: index)])
}
func text(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), arguments.index(after: index) < arguments.endIndex else {
        return nil
    }
    return arguments[arguments.index(after: index)]
}
guard let token = ProcessInfo.processInfo.environment["DISCORD_TOKEN"], !token.isEmpty else {
    FileHandle.standardError.write(Data("discord-simulator: set DISCORD_TOKEN to the token the bot will use\n".utf8))
    exit(2)
}
var configuration = SimulatorConfiguration(botToken: token)
configuration.guildCount = value("--guilds") ?? 2
if let heartbeat = value("--heartbeat-ms") { configuration.heartbeatIntervalMillis = heartbeat }
switch (text("--tls-cert"), text("--tls-key")) {
case let (chain?, key?):
    configuration.tls = SimulatorTLS(certificateChainFile: chain, privateKeyFile: key)
case (nil, nil):
    break
default:
    FileHandle.standardError.write(Data("discord-simulator: --tls-cert and --tls-key go together\n".utf8))
    exit(2)
}
let simulator = DiscordSimulator(configuration: configuration)
do {
    try await simulator.run(port: value("--port") ?? 0) { _ in
        // Unbuffered, so a parent process reading the pipe sees the lines at once.
        FileHandle.standardOutput.write(
            Data(
                """
                DISCORD_API_BASE=\(simulator.apiBase)
                DISCORD_GATEWAY_URL=\(simulator.gatewayURL)

                """.utf8))
    }
} catch {
    // A port in use or an unreadable certificate: one line, no stack.
    FileHandle.standardError.write(Data("discord-simulator: \(error)\n".utf8))
    exit(1)
}
