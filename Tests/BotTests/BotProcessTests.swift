import Bot
import DiscordSimulator
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import XCTest

/// The bot as a process, started the way `router` starts it (`BotLauncher`): every byte it prints is read back.
/// The child is this test bundle itself running `testChildRunsTheLauncher` with the settings in an environment
/// variable; the Discord simulator runs in this (the parent) process.
final class BotProcessTests: XCTestCase {
    static let childVariable = "BOT_TESTS_CHILD_LAUNCHER_SETTINGS"
    static let childTestName = "BotTests.BotProcessTests/testChildRunsTheLauncher"
    static let exitMarker = "LAUNCHER-EXIT "

    /// Runs the child with `settings`; returns everything it wrote to standard output and error, once it exited.
    func runChild(settings: [String: String], whileRunning script: () async -> Void = {}) async throws -> String {
        let outputPath = Fixture.temporaryDirectory() + "/child-output.txt"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = [Self.childTestName]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        try process.run()
        await script()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            process.terminate()
            XCTFail("the bot process did not stop")
        }
        process.waitUntilExit()
        try output.close()
        return try String(contentsOfFile: outputPath, encoding: .utf8)
    }

    func testMalformedTokenIsOneLineAndNoToken() async throws {
        let broken = Fixture.canaryToken.replacingOccurrences(of: ".", with: " ")
        let text = try await runChild(settings: ["DISCORD_TOKEN": broken, "LOG_LEVEL": "loud"])
        XCTAssertTrue(text.contains(Self.exitMarker + "2"), text)
        let errors = text.split(separator: "\n").filter { $0.hasPrefix("router: ") }
        XCTAssertEqual(errors.count, 2, "one line per problem: \(errors)")
        XCTAssertTrue(errors.contains { $0.contains("DISCORD_TOKEN is malformed") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("LOG_LEVEL='loud' is not valid") }, "\(errors)")
        XCTAssertFalse(text.contains("CANARY"), "the token leaked: \(text)")
        XCTAssertFalse(text.contains("Stack") || text.contains("Fatal error"), text)
    }

    /// Discord unreachable (nothing listens on the REST port): one line naming the address and the setting,
    /// exit code 1, within seconds rather than after minutes of retries.
    func testUnreachableDiscordIsOneLineWithinSeconds() async throws {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try XCTUnwrap(listener.localAddress?.port)
        try await listener.close()
        let started = ContinuousClock.now
        let text = try await runChild(settings: [
            "DISCORD_TOKEN": Fixture.canaryToken, "DISCORD_API_BASE": "http://127.0.0.1:\(port)/api/v10",
            "DATA_DIR": Fixture.temporaryDirectory(),
        ])
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(15), text)
        XCTAssertTrue(text.contains(Self.exitMarker + "1"), text)
        let errors = text.split(separator: "\n").filter { $0.hasPrefix("router: ") }
        XCTAssertEqual(errors.count, 1, "\(errors)")
        XCTAssertTrue(
            errors.first?.contains("Discord is unreachable at http://127.0.0.1:\(port)/api/v10") == true, text)
        XCTAssertTrue(errors.first?.contains("DISCORD_API_BASE") == true, text)
        XCTAssertFalse(text.contains("CANARY"), "the token leaked: \(text)")
    }

    func testCanaryTokenAbsentFromEveryByteAcrossASessionWithFaults() async throws {
        var configuration = SimulatorConfiguration(botToken: Fixture.canaryToken)
        configuration.guildCount = 1
        configuration.humansPerGuild = 1
        configuration.heartbeatIntervalMillis = 500
        let simulator = DiscordSimulator(configuration: configuration)
        let simulatorTask = try await simulator.start()
        defer { simulatorTask.cancel() }
        let guild = try XCTUnwrap(simulator.guilds.first)
        let human = try XCTUnwrap(guild.humanIDs.first)
        let settings = [
            "DISCORD_TOKEN": Fixture.canaryToken, "DISCORD_API_BASE": simulator.apiBase,
            "DISCORD_GATEWAY_URL": simulator.gatewayURL, "LOG_LEVEL": "trace",
            // Nothing listens on port 1: every session start meets an unreachable AI server.
            "PERSONAPLEX_URL": "ws://127.0.0.1:1/api/chat", "DATA_DIR": Fixture.temporaryDirectory(),
        ]
        let text = try await runChild(settings: settings) {
            let identified = await simulator.waitUntil(timeout: .seconds(60)) {
                simulator.receivedPayloads.contains { $0.op == 2 }
            }
            XCTAssertTrue(identified)
            simulator.userSendsMessage(userID: human, channelID: guild.textChannelID, content: "!voice NATF9")
            simulator.userJoinsVoice(userID: human, guildID: guild.id, channelID: guild.voiceChannelIDs[0])
            let unreachable = await simulator.waitUntil(timeout: .seconds(30)) {
                simulator.postedMessages.contains { $0.content.contains("the AI server is unreachable") }
                    && simulator.postedMessages.contains { $0.content.contains("NATF9") }
            }
            XCTAssertTrue(unreachable, "\(simulator.postedMessages.map(\.content))")
            // Faults: a dropped connection (resume), then a 429 burst, then the token is refused for good.
            simulator.dropGatewayConnections()
            let resumed = await simulator.waitUntil(timeout: .seconds(30)) {
                simulator.receivedPayloads.contains { $0.op == 6 }
            }
            XCTAssertTrue(resumed)
            simulator.inject429s(count: 2, global: false)
            simulator.userSendsMessage(userID: human, channelID: guild.textChannelID, content: "!help")
            _ = await simulator.waitUntil(timeout: .seconds(30)) {
                simulator.postedMessages.contains { $0.content.contains("Commands") }
            }
            simulator.closeGateway(code: 4004)
        }
        XCTAssertTrue(text.contains(Self.exitMarker + "1"), String(text.suffix(2000)))
        XCTAssertTrue(text.contains("router: ") && text.contains("authentication failed"), String(text.suffix(2000)))
        XCTAssertTrue(text.contains("guild=\(guild.id)"), "structured logs with the guild")
        XCTAssertFalse(text.contains(Fixture.canaryToken), "the token leaked")
        XCTAssertFalse(text.contains("CANARY"), "part of the token leaked")
        if let path = ProcessInfo.processInfo.environment["BOT_TESTS_KEEP_OUTPUT"] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    func testCancellingTheLauncherIsACleanStop() async throws {
        let simulator = DiscordSimulator(configuration: SimulatorConfiguration(botToken: Fixture.canaryToken))
        let simulatorTask = try await simulator.start()
        defer { simulatorTask.cancel() }
        let settings = [
            "DISCORD_TOKEN": Fixture.canaryToken, "DISCORD_API_BASE": simulator.apiBase,
            "DISCORD_GATEWAY_URL": simulator.gatewayURL, "DATA_DIR": Fixture.temporaryDirectory(),
        ]
        let log = CapturedLog()
        let reported = Mutex<[String]>([])
        let launcher = Task {
            await BotLauncher.run(environment: settings, logHandler: { log.handler(label: $0) }) { line in
                reported.withLock { $0.append(line) }
            }
        }
        let identified = await simulator.waitUntil(timeout: .seconds(60)) {
            simulator.receivedPayloads.contains { $0.op == 2 }
        }
        XCTAssertTrue(identified)
        launcher.cancel()
        let code = await launcher.value
        XCTAssertEqual(code, 0)
        XCTAssertEqual(reported.withLock { $0 }, [])
    }

    /// Runs only as the child of the tests above.
    func testChildRunsTheLauncher() async throws {
        guard let json = ProcessInfo.processInfo.environment[Self.childVariable] else {
            throw XCTSkip("runs only as the child process of the BotProcessTests")
        }
        let settings = try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        let code = await BotLauncher.run(environment: settings) { line in
            FileHandle.standardError.write(Data(("router: " + line + "\n").utf8))
        }
        FileHandle.standardOutput.write(Data((Self.exitMarker + "\(code)\n").utf8))
    }
}
