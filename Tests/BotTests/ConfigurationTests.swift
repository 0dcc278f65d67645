import Foundation
import RouterCore
import XCTest

@testable import Bot

final class ConfigurationTests: XCTestCase {
    let token = Fixture.canaryToken

    func testDefaults() throws {
        let configuration = try BotConfiguration.parse(["DISCORD_TOKEN": token])
        XCTAssertEqual(configuration.token.secret, token)
        XCTAssertEqual(configuration.commandPrefix, "!")
        XCTAssertEqual(configuration.dataDirectory, "./data")
        XCTAssertEqual(configuration.backends.map(\.authority), ["localhost:8998"])
        XCTAssertEqual(configuration.defaults, .standard)
        XCTAssertEqual(configuration.defaults.voice, "NATF0.pt")
        XCTAssertEqual(configuration.defaults.textPrompt, "You are a helpful assistant.")
        XCTAssertNil(configuration.statusChannelID)
    }

    func testEverySetting() throws {
        let configuration = try BotConfiguration.parse([
            "DISCORD_TOKEN": token, "PERSONAPLEX_URL": "wss://gpu1:8998/api/chat, ws://127.0.0.1:9000",
            "COMMAND_PREFIX": "?", "DATA_DIR": "/tmp/x", "STATUS_CHANNEL_ID": "123", "DISCORD_GUILD_ID": "456",
            "DEFAULT_VOICE": "natm1", "DEFAULT_PROMPT": "You are a pirate.", "LOG_LEVEL": "DEBUG",
            "VOICE_PROMPT_DIR": "",
        ])
        XCTAssertEqual(configuration.backends.map(\.authority), ["gpu1:8998", "127.0.0.1:9000"])
        XCTAssertEqual(configuration.commandPrefix, "?")
        XCTAssertEqual(configuration.statusChannelID?.rawValue, 123)
        XCTAssertEqual(configuration.commandGuildID?.rawValue, 456)
        XCTAssertEqual(configuration.defaults.voice, "NATM1.pt")
        XCTAssertEqual(configuration.defaults.textPrompt, "You are a pirate.")
        XCTAssertEqual(configuration.logLevel, .debug)
    }

    func testMissingToken() {
        XCTAssertThrowsError(try BotConfiguration.parse([:])) { error in
            XCTAssertEqual(error as? BotConfigurationError, .missingToken)
            XCTAssertEqual((error as? BotConfigurationError)?.lines.count, 1)
        }
    }

    func testMalformedTokensAreDescribedNeverQuoted() {
        XCTAssertEqual(try BotToken("Bot " + token).secret, token, "a pasted header prefix is dropped")
        for bad in [
            "bearer " + token, token + " extra", "only.two", token.replacingOccurrences(of: ".", with: ""),
            "\"" + token + "\"",
        ] {
            XCTAssertThrowsError(try BotConfiguration.parse(["DISCORD_TOKEN": bad])) { error in
                let text = "\(error)" + String(describing: error) + String(reflecting: error)
                XCTAssertTrue(text.contains("DISCORD_TOKEN is malformed"), text)
                XCTAssertFalse(text.contains("CANARY"), "the token leaked: \(text)")
            }
        }
    }

    func testEachBadValueIsOneLine() {
        XCTAssertThrowsError(
            try BotConfiguration.parse([
                "DISCORD_TOKEN": token, "PERSONAPLEX_URL": "http://x:1", "COMMAND_PREFIX": "go go",
                "STATUS_CHANNEL_ID": "general", "LOG_LEVEL": "loud", "DEFAULT_VOICE": "NATF9",
                "VOICE_PROMPT_DIR": "/nonexistent/voices",
            ])
        ) { error in
            let lines = (error as? BotConfigurationError)?.lines ?? []
            XCTAssertEqual(lines.count, 6, lines.joined(separator: "\n"))
            for setting in [
                "PERSONAPLEX_URL", "COMMAND_PREFIX", "STATUS_CHANNEL_ID", "LOG_LEVEL", "DEFAULT_VOICE",
                "VOICE_PROMPT_DIR",
            ] {
                XCTAssertEqual(lines.filter { $0.hasPrefix(setting + "=") }.count, 1, setting)
            }
            XCTAssertTrue(lines.allSatisfy { !$0.contains("\n") })
            XCTAssertTrue(lines.contains { $0.contains("NATF0") }, "a bad default voice names close ones")
        }
    }

    func testVoiceDirectoryListsItsPtFiles() throws {
        let directory = Fixture.temporaryDirectory()
        for name in ["NATF0.pt", "Custom.pt", "README.txt", ".hidden.pt"] {
            _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: Data())
        }
        let configuration = try BotConfiguration.parse([
            "DISCORD_TOKEN": token, "VOICE_PROMPT_DIR": directory,
            "DEFAULT_VOICE": "custom",
        ])
        XCTAssertEqual(try configuration.voiceCatalog().voices, ["Custom.pt", "NATF0.pt"])
        XCTAssertEqual(configuration.defaults.voice, "Custom.pt")
    }

    func testDotEnvIsRead() throws {
        let directory = Fixture.temporaryDirectory()
        let path = directory + "/.env"
        try "# comment\nDISCORD_TOKEN=\(token)\nCOMMAND_PREFIX=%\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try BotConfiguration.load(dotEnvPath: path)
        XCTAssertEqual(configuration.commandPrefix, ProcessInfo.processInfo.environment["COMMAND_PREFIX"] ?? "%")
    }

    func testEverySettingIsInDotEnvExampleWithAComment() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent(".env.example"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let discordSettings = [
            "DISCORD_API_BASE", "DISCORD_GATEWAY_URL", "DISCORD_CA_FILE", "DISCORD_VOICE_SCHEME",
            "SHARD_COUNT", "SHARD_IDS",
        ]
        for name in BotConfiguration.settingNames + discordSettings {
            guard let index = lines.firstIndex(where: { $0.hasPrefix(name + "=") }) else {
                XCTFail("\(name) is not in .env.example")
                continue
            }
            // A comment directly above it, or above the group of settings it belongs to.
            var above = index - 1
            while above >= 0, !lines[above].hasPrefix("#"), lines[above].contains("=") { above -= 1 }
            XCTAssertTrue(above >= 0 && lines[above].hasPrefix("#"), "\(name) has no comment above it")
        }
        // The example itself is a valid configuration once a token is filled in.
        var variables = try PipelineEnvironment.parseDotEnv(text, file: ".env.example")
        variables["DISCORD_TOKEN"] = token
        XCTAssertNoThrow(try BotConfiguration.parse(variables))
    }

    func testTokenNeverPrints() throws {
        let value = try BotToken(token)
        var dumped = ""
        dump(value, to: &dumped)
        let forms = [
            "\(value)", String(describing: value), String(reflecting: value), dumped,
            "\(Mirror(reflecting: value).children.map { "\($0.value)" })",
        ]
        for form in forms { XCTAssertFalse(form.contains("CANARY"), form) }
    }
}
