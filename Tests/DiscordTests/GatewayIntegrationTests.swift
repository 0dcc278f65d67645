import Discord
import DiscordSimulator
import XCTest

/// The client against the simulator on loopback.
final class GatewayIntegrationTests: XCTestCase {
    func testIdentifyReadyGuildCreateFillTheCache() async throws {
        let harness = try await Harness.start(self) { $0.guildCount = 3 }
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("three GUILD_CREATEs") { events.count { $0.isGuildCreate } == 3 }
        let identify = harness.simulator.receivedPayloads.first { $0.op == 2 }
        XCTAssertEqual(identify?.summary["intents"], "33409")
        XCTAssertEqual(client.cache.ownUserID?.rawValue, harness.simulator.botUserID)
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        let cached = try XCTUnwrap(client.cache.guild(Snowflake(guild.id)))
        XCTAssertEqual(cached.channels.count, 3)
        XCTAssertEqual(client.cache.channel(Snowflake(guild.voiceChannelIDs[0]))?.isVoice, true)
        // A human joins voice: the cache follows.
        harness.simulator.userJoinsVoice(
            userID: guild.humanIDs[0], guildID: guild.id, channelID: guild.voiceChannelIDs[0])
        await eventually("voice state cached") {
            client.cache.voiceChannel(of: Snowflake(guild.humanIDs[0]), in: Snowflake(guild.id))
                == Snowflake(guild.voiceChannelIDs[0])
        }
        XCTAssertEqual(
            client.cache.usersInVoiceChannel(Snowflake(guild.voiceChannelIDs[0]), guildID: Snowflake(guild.id))
                .map(\.isBot), [false])
        run.cancel()
        _ = try? await run.value
        await client.shutdown()
        await harness.stop()
    }

    func testResumeAfterDroppedConnectionLosesNoEvent() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("READY") { events.count { $0.isReady } == 1 }
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        harness.simulator.userSendsMessage(userID: guild.humanIDs[0], channelID: guild.textChannelID, content: "before")
        await eventually("first message") { events.messageContents == ["before"] }
        harness.simulator.dropGatewayConnections()
        // Events while the client is away are buffered by the session and must be replayed on Resume.
        for index in 0..<20 {
            harness.simulator.userSendsMessage(
                userID: guild.humanIDs[1], channelID: guild.textChannelID,
                content: "while-away-\(index)")
        }
        await eventually("RESUMED") { events.count { $0.isResumed } == 1 }
        harness.simulator.userSendsMessage(userID: guild.humanIDs[0], channelID: guild.textChannelID, content: "after")
        await eventually("every message once") { events.messageContents.count == 22 }
        XCTAssertEqual(events.messageContents, ["before"] + (0..<20).map { "while-away-\($0)" } + ["after"])
        XCTAssertEqual(harness.simulator.receivedPayloads.filter { $0.op == 2 }.count, 1, "resumed, not re-identified")
        XCTAssertEqual(harness.simulator.receivedPayloads.filter { $0.op == 6 }.count, 1)
        XCTAssertEqual(events.count { $0.isReady }, 1)
        run.cancel()
        _ = try? await run.value
        await client.shutdown()
        await harness.stop()
    }

    func testZombieConnectionIsClosedAndResumed() async throws {
        let harness = try await Harness.start(self) { $0.heartbeatIntervalMillis = 150 }
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("READY") { events.count { $0.isReady } == 1 }
        harness.simulator.withholdHeartbeatAcks(true)
        await eventually("the client closes the zombie connection") { !harness.simulator.clientCloseCodes.isEmpty }
        harness.simulator.withholdHeartbeatAcks(false)
        let code = try XCTUnwrap(harness.simulator.clientCloseCodes.first ?? nil)
        XCTAssertFalse(code == 1000 || code == 1001, "a zombie close must keep the session resumable, got \(code)")
        await eventually("RESUMED") { events.count { $0.isResumed } == 1 }
        XCTAssertEqual(harness.simulator.receivedPayloads.filter { $0.op == 2 }.count, 1)
        run.cancel()
        _ = try? await run.value
        await client.shutdown()
        await harness.stop()
    }

    func testReconnectAndInvalidSessionRules() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        let sim = harness.simulator
        func ops(_ op: Int) -> Int { sim.receivedPayloads.filter { $0.op == op }.count }
        await eventually("READY") { events.count { $0.isReady } == 1 }
        sim.sendReconnect()
        await eventually("op 7 → Resume") { events.count { $0.isResumed } == 1 }
        sim.sendInvalidSession(resumable: true)
        await eventually("op 9 true → Resume") { events.count { $0.isResumed } == 2 }
        XCTAssertEqual(ops(2), 1)
        sim.sendInvalidSession(resumable: false)
        await eventually("op 9 false → Identify") { events.count { $0.isReady } == 2 }
        XCTAssertEqual(ops(2), 2)
        sim.closeGateway(code: 4000)
        await eventually("4000 → Resume") { events.count { $0.isResumed } == 3 }
        sim.closeGateway(code: 4009)
        await eventually("4009 → Identify") { events.count { $0.isReady } == 3 }
        sim.closeGateway(code: 4007)
        await eventually("4007 → Identify") { events.count { $0.isReady } == 4 }
        XCTAssertEqual(ops(6), 3)
        run.cancel()
        _ = try? await run.value
        await client.shutdown()
        await harness.stop()
    }

    func testServerHeartbeatRequestIsAnsweredAtOnce() async throws {
        let harness = try await Harness.start(self) { $0.heartbeatIntervalMillis = 60_000 }
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("READY") { events.count { $0.isReady } == 1 }
        let before = harness.simulator.receivedPayloads.filter { $0.op == 1 }.count
        let asked = Date()
        harness.simulator.requestHeartbeat()
        await eventually("a heartbeat", timeout: 5) {
            harness.simulator.receivedPayloads.filter { $0.op == 1 }.count > before
        }
        let beat = try XCTUnwrap(harness.simulator.receivedPayloads.last { $0.op == 1 })
        XCTAssertLessThan(beat.at.timeIntervalSince(asked), 2, "answered at once, not at the next interval")
        run.cancel()
        _ = try? await run.value
        await client.shutdown()
        await harness.stop()
    }

    func testBadTokenCloseStopsWithMessageAndNoRetry() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("READY") { events.count { $0.isReady } == 1 }
        harness.simulator.closeGateway(code: 4004)
        do {
            try await run.value
            XCTFail("run returned normally after 4004")
        } catch let error as DiscordError {
            guard case let .gatewayFatal(code, message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(code, 4004)
            XCTAssertTrue(message.contains("token"), message)
        }
        try await Task.sleep(for: .milliseconds(600))
        XCTAssertEqual(
            harness.simulator.receivedPayloads.filter { $0.op == 2 || $0.op == 6 }.count, 1,
            "no reconnect after 4004")
        XCTAssertEqual(harness.simulator.connectionCount, 0)
        XCTAssertTrue(events.all.contains { if case .shardStopped = $0 { return true } else { return false } })
        await client.shutdown()
        await harness.stop()
    }

    func testDisallowedIntentStopsWithPortalAdvice() async throws {
        let harness = try await Harness.start(self) { $0.messageContentIntentEnabled = false }
        let client = try harness.makeClient()
        do {
            try await client.run()
            XCTFail("run returned normally after 4014")
        } catch let error as DiscordError {
            XCTAssertEqual(error.description.contains("4014"), true)
            XCTAssertTrue(error.description.contains("Message Content intent"), error.description)
            XCTAssertTrue(error.description.contains("Developer Portal"), error.description)
        }
        try await Task.sleep(for: .milliseconds(600))
        XCTAssertEqual(harness.simulator.receivedPayloads.filter { $0.op == 2 }.count, 1, "no retry loop")
        XCTAssertEqual(harness.simulator.serverCloseCodes, [4014])
        await client.shutdown()
        await harness.stop()
    }

    func testShardsSplitGuildsAndVoiceGoesToTheOwningShard() async throws {
        let harness = try await Harness.start(self) { $0.guildCount = 8 }
        let client = try harness.makeClient { $0.shardCount = 2 }
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("two READYs and eight guilds", timeout: 20) {
            events.count { $0.isReady } == 2 && events.count { $0.isGuildCreate } == 8
        }
        let shards = Set(harness.simulator.receivedPayloads.filter { $0.op == 2 }.compactMap { $0.summary["shard"] })
        XCTAssertEqual(shards.count, 2)
        for guild in harness.simulator.guilds {
            XCTAssertNotNil(client.cache.guild(Snowflake(guild.id)))
        }
        run.cancel()
        _ = try? await run.value
        await client.shutdown()
        await harness.stop()
    }
}
