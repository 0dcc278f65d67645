import XCTest

@testable import Discord

final class CloseCodeTests: XCTestCase {
    func testFatalCodesSayWhatToDo() {
        guard case let .fatal(message4004) = GatewayCloseCode.action(for: 4004) else { return XCTFail() }
        XCTAssertTrue(message4004.contains("token"))
        guard case let .fatal(message4014) = GatewayCloseCode.action(for: 4014) else { return XCTFail() }
        XCTAssertTrue(message4014.contains("Message Content intent"))
        XCTAssertTrue(message4014.contains("Developer Portal"))
        for code in 4010...4013 {
            guard case .fatal = GatewayCloseCode.action(for: code) else { return XCTFail("\(code) is fatal") }
        }
    }

    func testResumeAndReidentifyCodes() {
        for code in [4000, 4001, 4002, 4003, 4005, 4008, 1006] {
            XCTAssertEqual(GatewayCloseCode.action(for: code), .resume, "\(code)")
        }
        XCTAssertEqual(GatewayCloseCode.action(for: nil), .resume, "a dropped connection resumes")
        XCTAssertEqual(GatewayCloseCode.action(for: 4007), .reidentify)
        XCTAssertEqual(GatewayCloseCode.action(for: 4009), .reidentify)
    }
}

final class ConfigurationTests: XCTestCase {
    func testPlainSchemesOnlyForLoopback() throws {
        XCTAssertNoThrow(try DiscordURL("http://127.0.0.1:8080/api/v10", allowed: ["http", "https"]))
        XCTAssertNoThrow(try DiscordURL("ws://localhost:1/", allowed: ["ws"]))
        XCTAssertNoThrow(try DiscordURL("ws://[::1]:1/", allowed: ["ws"]))
        XCTAssertThrowsError(try DiscordURL("http://discord.com/api/v10", allowed: ["http", "https"]))
        XCTAssertThrowsError(try DiscordURL("ws://10.0.0.1/", allowed: ["ws"]))
        XCTAssertThrowsError(try DiscordURL("ftp://127.0.0.1/", allowed: ["http"]))
    }

    func testVoiceSchemeWsOnlyForLoopbackEndpoints() throws {
        var configuration = try DiscordConfiguration.fromEnvironment([
            "DISCORD_TOKEN": "abc.def", "DISCORD_VOICE_SCHEME": "ws",
        ])
        XCTAssertEqual(
            try configuration.voiceGatewayURL(endpoint: "127.0.0.1:4444").description,
            "ws://127.0.0.1:4444/?v=8")
        XCTAssertThrowsError(try configuration.voiceGatewayURL(endpoint: "c-fra01.discord.media:443"))
        configuration.voiceScheme = "wss"
        XCTAssertEqual(
            try configuration.voiceGatewayURL(endpoint: "c-fra01.discord.media:443").description,
            "wss://c-fra01.discord.media/?v=8")
    }

    func testEnvironmentErrors() {
        XCTAssertThrowsError(try DiscordConfiguration.fromEnvironment([:])) { error in
            XCTAssertTrue("\(error)".contains("DISCORD_TOKEN is not set"))
        }
        XCTAssertThrowsError(try DiscordConfiguration.fromEnvironment(["DISCORD_TOKEN": "a b"]))
        XCTAssertThrowsError(try DiscordConfiguration.fromEnvironment(["DISCORD_TOKEN": "x", "SHARD_COUNT": "0"]))
        XCTAssertThrowsError(
            try DiscordConfiguration.fromEnvironment([
                "DISCORD_TOKEN": "x", "SHARD_COUNT": "2",
                "SHARD_IDS": "2",
            ]))
        XCTAssertThrowsError(
            try DiscordConfiguration.fromEnvironment([
                "DISCORD_TOKEN": "x",
                "DISCORD_VOICE_SCHEME": "udp",
            ]))
        let parsed = try? DiscordConfiguration.fromEnvironment([
            "DISCORD_TOKEN": "Bot x.y", "SHARD_COUNT": "4",
            "SHARD_IDS": "1,3",
        ])
        XCTAssertEqual(parsed?.shardIDs, [1, 3])
        XCTAssertEqual(parsed?.intents, 33409)
        XCTAssertEqual(
            try? DiscordConfiguration.fromEnvironment(["DISCORD_TOKEN": "x", "DISCORD_GUILD_ID": "42"])
                .commandGuildID, Snowflake(42))
        XCTAssertThrowsError(
            try DiscordConfiguration.fromEnvironment([
                "DISCORD_TOKEN": "x",
                "DISCORD_GUILD_ID": "guild",
            ]))
    }

    func testTokenNeverPrinted() throws {
        let token = try DiscordToken("Bot canary-SECRET-42")
        let configuration = DiscordConfiguration(token: token)
        for text in ["\(token)", String(reflecting: token), "\(configuration)", String(reflecting: configuration)] {
            XCTAssertFalse(text.contains("canary-SECRET-42"), text)
        }
        var dumped = ""
        dump(configuration, to: &dumped)
        XCTAssertFalse(dumped.contains("canary-SECRET-42"))
        XCTAssertEqual(token.authorizationHeader, "Bot canary-SECRET-42")
    }
}

final class ShardPlanTests: XCTestCase {
    func testGuildToShard() {
        let guild = Snowflake(41_771_983_423_143_937)
        XCTAssertEqual(ShardPlan.shard(for: guild, count: 1), 0)
        XCTAssertEqual(ShardPlan.shard(for: guild, count: 4), Int((41_771_983_423_143_937 >> 22) % 4))
        let plan = ShardPlan(configuredCount: nil, configuredIDs: nil, recommended: 3)
        XCTAssertEqual(plan.ids, [0, 1, 2])
        XCTAssertEqual(ShardPlan(configuredCount: 4, configuredIDs: [2], recommended: 1).ids, [2])
    }
}

final class MessageSplitterTests: XCTestCase {
    func testLongTextSplitsAtSentencesWithinLimit() {
        let sentence = "This is sentence number one of a fairly long answer from the model. "
        let text = String(repeating: sentence, count: 70)
        let chunks = MessageSplitter.split(text)
        XCTAssertEqual(chunks.count, 3)
        for chunk in chunks {
            XCTAssertLessThanOrEqual(chunk.unicodeScalars.count, 2000)
            XCTAssertTrue(chunk.hasSuffix("model."), "split at a sentence end: …\(chunk.suffix(20))")
        }
        XCTAssertEqual(chunks.joined(separator: " "), text.trimmingCharacters(in: .whitespaces))
    }

    func testWordBoundaryAndHardCut() {
        let words = String(repeating: "word ", count: 500)
        for chunk in MessageSplitter.split(words) {
            XCTAssertLessThanOrEqual(chunk.unicodeScalars.count, 2000)
            XCTAssertFalse(chunk.hasSuffix("wor"))
        }
        let blob = String(repeating: "x", count: 4500)
        XCTAssertEqual(MessageSplitter.split(blob).map(\.count), [2000, 2000, 500])
        let emoji = String(repeating: "👍🏽", count: 1500)
        for chunk in MessageSplitter.split(emoji) { XCTAssertLessThanOrEqual(chunk.unicodeScalars.count, 2000) }
        XCTAssertEqual(MessageSplitter.split("short"), ["short"])
        XCTAssertEqual(MessageSplitter.split("   "), [])
    }
}
