import DiscordSimulator
import Foundation
import XCTest

/// The independent check: discord.py 2.7 (PyPI, in .venv) logs into the simulator as a second bot, sees its
/// guilds through GUILD_CREATE, and posts a message the simulator records.
final class DiscordPyInteropTests: XCTestCase {
    static let root: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: "/work/main")
    }()

    static let secondToken = "ZGlzY29yZC5weQ.peer.token"

    /// Runs the discord.py peer against `harness` (as the second bot) while `script` runs; returns its RESULT
    /// object and exit status.
    private func runPeer(
        _ harness: Harness, mode: String = "post", environment: [String: String] = [:],
        whileRunning script: @Sendable () async throws -> Void = {}
    ) async throws -> (result: [String: Any], status: Int32) {
        let python = Self.root.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw XCTSkip("\(python.path) missing: run `bash scripts/setup.sh --with-peers`")
        }
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        let process = Process()
        process.executableURL = python
        process.arguments = ["-u", Self.root.appendingPathComponent("Tests/peers/discordpy_peer.py").path]
        process.environment = ProcessInfo.processInfo.environment.merging(
            [
                "SIM_API_BASE": harness.simulator.apiBase, "SIM_GATEWAY": harness.simulator.gatewayURL,
                "SIM_TOKEN": Self.secondToken, "SIM_CHANNEL": String(guild.textChannelID), "SIM_MODE": mode,
            ].merging(environment) { $1 }
        ) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reading = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
        try await script()
        let data = await reading.value
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("RESULT ") }, text)
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: Any])
        return (result, process.terminationStatus)
    }

    func testDiscordPyLogsInSeesGuildsAndPosts() async throws {
        let harness = try await Harness.start(self) {
            $0.extraBotTokens = [Self.secondToken]
            $0.guildCount = 2
        }
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        let (result, status) = try await runPeer(harness)
        XCTAssertNil(result["error"], "\(result)")
        XCTAssertEqual(result["guilds"] as? [String], harness.simulator.guilds.map { String($0.id) }.sorted())
        XCTAssertEqual(result["channels"] as? Int, 6)
        XCTAssertEqual(result["message_content"] as? String, "hello from discord.py")
        let posted = try XCTUnwrap(harness.simulator.postedMessages.first)
        XCTAssertEqual(posted.content, "hello from discord.py")
        XCTAssertEqual(posted.channelID, guild.textChannelID)
        XCTAssertNotEqual(posted.authorID, harness.simulator.botUserID, "posted as the second bot")
        let paths = harness.simulator.recordedRequests.map { "\($0.method) \($0.path)" }
        XCTAssertTrue(paths.contains("GET /api/v10/users/@me"), "\(paths)")
        XCTAssertTrue(harness.simulator.receivedPayloads.contains { $0.op == 2 }, "discord.py identified")
        XCTAssertEqual(status, 0)
        await harness.stop()
    }

    /// The simulator's TLS mode is ordinary TLS: discord.py (aiohttp, OpenSSL) logs in over https and wss,
    /// trusting the test CA through SSL_CERT_FILE.
    func testDiscordPyOverHTTPSAndWSSWithTheTestCA() async throws {
        let pki = try TLSGatewayTests.TestPKI.make()
        let harness = try await Harness.start(self) {
            $0.extraBotTokens = [Self.secondToken]
            $0.tls = SimulatorTLS(certificateChainFile: pki.serverChain, privateKeyFile: pki.serverKey)
        }
        XCTAssertTrue(harness.simulator.gatewayURL.hasPrefix("wss://"))
        let (result, status) = try await runPeer(harness, environment: ["SSL_CERT_FILE": pki.ca])
        XCTAssertNil(result["error"], "\(result)")
        XCTAssertEqual(result["message_content"] as? String, "hello from discord.py")
        XCTAssertEqual(status, 0)
        XCTAssertEqual(harness.simulator.postedMessages.map(\.content), ["hello from discord.py"])
    }

    /// discord.py without MESSAGE_CONTENT: the simulator empties the text of ordinary messages and keeps it for
    /// a message that mentions the bot, as Discord does.
    func testDiscordPyWithoutMessageContentSeesTextOnlyWhenMentioned() async throws {
        let harness = try await Harness.start(self) { $0.extraBotTokens = [Self.secondToken] }
        let sim = harness.simulator
        let guild = try XCTUnwrap(sim.guilds.first)
        let peer = try XCTUnwrap(sim.botUserID(forToken: Self.secondToken))
        let (result, status) = try await runPeer(harness, mode: "no-content") {
            let identified = await sim.waitUntil(timeout: .seconds(30)) { sim.receivedPayloads.contains { $0.op == 2 } }
            XCTAssertTrue(identified, "discord.py identified")
            sim.userSendsMessage(userID: guild.humanIDs[0], channelID: guild.textChannelID, content: "secret plan")
            sim.userSendsMessage(userID: guild.humanIDs[1], channelID: guild.textChannelID, content: "<@\(peer)> hi")
        }
        XCTAssertNil(result["error"], "\(result)")
        XCTAssertEqual(result["contents"] as? [String], ["", "<@\(peer)> hi"])
        XCTAssertEqual(result["user_id"] as? String, String(peer))
        XCTAssertEqual(status, 0)
        let intents = sim.receivedPayloads.first { $0.op == 2 }?.summary["intents"].flatMap { Int($0) }
        XCTAssertEqual(intents.map { $0 & (1 << 15) }, 0, "discord.py did not ask for MESSAGE_CONTENT")
    }

    /// discord.py asking for MESSAGE_CONTENT while it is not enabled: closed with 4014, which discord.py reports
    /// as PrivilegedIntentsRequired (and stops, no retry loop).
    func testDiscordPyGets4014ForADisallowedIntent() async throws {
        let harness = try await Harness.start(self) {
            $0.extraBotTokens = [Self.secondToken]
            $0.messageContentIntentEnabled = false
        }
        let (result, status) = try await runPeer(harness)
        XCTAssertEqual(result["exception"] as? String, "PrivilegedIntentsRequired", "\(result)")
        XCTAssertEqual(status, 1)
        XCTAssertEqual(harness.simulator.serverCloseCodes, [4014])
        XCTAssertEqual(harness.simulator.receivedPayloads.filter { $0.op == 2 }.count, 1, "no retry loop")
    }
}
