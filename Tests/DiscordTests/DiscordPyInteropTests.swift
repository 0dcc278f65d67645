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

    func testDiscordPyLogsInSeesGuildsAndPosts() async throws {
        let python = Self.root.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw XCTSkip("\(python.path) missing: run `bash scripts/setup.sh --with-peers`")
        }
        let secondToken = "ZGlzY29yZC5weQ.peer.token"
        let harness = try await Harness.start(self) {
            $0.extraBotTokens = [secondToken]
            $0.guildCount = 2
        }
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        let process = Process()
        process.executableURL = python
        process.arguments = ["-u", Self.root.appendingPathComponent("Tests/peers/discordpy_peer.py").path]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "SIM_API_BASE": harness.simulator.apiBase, "SIM_GATEWAY": harness.simulator.gatewayURL,
            "SIM_TOKEN": secondToken, "SIM_CHANNEL": String(guild.textChannelID),
        ]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("RESULT ") }, text)
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: Any])
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
        XCTAssertEqual(process.terminationStatus, 0)
        await harness.stop()
    }
}
