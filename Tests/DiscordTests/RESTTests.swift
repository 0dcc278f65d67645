import Discord
import DiscordSimulator
import XCTest

final class RESTTests: XCTestCase {
    func testHeadersMentionsDisabledAndNonce() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        let sent = try await client.rest.sendMessage(
            channelID: Snowflake(guild.textChannelID),
            text: "@everyone the model says hi to <@&123> and <@456>")
        XCTAssertEqual(sent.count, 1)
        let posted = try XCTUnwrap(harness.simulator.postedMessages.first)
        XCTAssertEqual(posted.allowedMentionsParse, [], "allowed_mentions.parse must be empty")
        XCTAssertTrue(posted.enforceNonce)
        XCTAssertNotNil(posted.nonce)
        XCTAssertLessThanOrEqual(posted.nonce?.count ?? 99, 25)
        let request = try XCTUnwrap(harness.simulator.recordedRequests.last)
        XCTAssertEqual(request.headers["authorization"], "Bot \(Harness.token)")
        let agent = try XCTUnwrap(request.headers["user-agent"])
        XCTAssertTrue(agent.hasPrefix("DiscordBot ("), agent)
        XCTAssertTrue(agent.hasSuffix(")"), agent)
        let me = try await client.rest.currentUser()
        XCTAssertEqual(me.id.rawValue, harness.simulator.botUserID)
        let app = try await client.rest.currentApplication()
        XCTAssertEqual(app.id.rawValue, harness.simulator.applicationID)
        await client.shutdown()
        await harness.stop()
    }

    func testLongTextIsSplitIntoValidMessages() async throws {
        let harness = try await Harness.start(self) { $0.messageLimit = 50 }
        let client = try harness.makeClient()
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        let text = String(repeating: "A sentence that the model produced for the channel. ", count: 100)
        let sent = try await client.rest.sendMessage(channelID: Snowflake(guild.textChannelID), text: text)
        XCTAssertEqual(sent.count, 3)
        let posted = harness.simulator.postedMessages
        XCTAssertEqual(posted.count, 3)
        XCTAssertTrue(posted.allSatisfy { $0.content.unicodeScalars.count <= 2000 && $0.allowedMentionsParse == [] })
        XCTAssertEqual(posted.map(\.content).joined(separator: " "), text.trimmingCharacters(in: .whitespaces))
        await client.shutdown()
        await harness.stop()
    }

    /// 200 messages at once into one channel whose bucket holds 20 per 0.5 s: every request waits for room;
    /// Discord never has to answer 429.
    func testBurstOf200HonoursTheBucket() async throws {
        let harness = try await Harness.start(self) {
            $0.messageLimit = 20
            $0.messageWindowSeconds = 0.5
        }
        let client = try harness.makeClient()
        let channel = try XCTUnwrap(harness.simulator.guilds.first).textChannelID
        let rest = client.rest
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask { try await rest.sendMessage(channelID: Snowflake(channel), text: "burst \(index)") }
            }
            try await group.waitForAll()
        }
        let requests = harness.simulator.recordedRequests.filter { $0.path.hasSuffix("/messages") }
        XCTAssertEqual(harness.simulator.postedMessages.count, 200)
        XCTAssertEqual(requests.dropFirst().filter { $0.status == 429 }.count, 0, "no 429 after the first answer")
        XCTAssertLessThanOrEqual(harness.simulator.tooManyRequestsCount, 1)
        await client.shutdown()
        await harness.stop()
    }

    func testGlobalAndShared429AreWaitedOut() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        harness.simulator.inject429s(count: 2, global: true, retryAfter: 0.2)
        let started = Date()
        _ = try await client.rest.currentUser()
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.35, "waited retry_after twice")
        harness.simulator.inject429s(count: 1, global: false, retryAfter: 0.1)
        _ = try await client.rest.gatewayBot()
        XCTAssertEqual(harness.simulator.tooManyRequestsCount, 3)
        XCTAssertTrue(harness.log.text.contains("scope=global"))
        await client.shutdown()
        await harness.stop()
    }

    func testWrongTokenIsOneClearErrorWithoutTheToken() async throws {
        let harness = try await Harness.start(self)
        let wrong = "WRONG-canary-token-1234.abcd"
        let client = try harness.makeClient(token: wrong)
        do {
            try await client.run()
            XCTFail("ran with a wrong token")
        } catch let error as DiscordError {
            XCTAssertEqual(error, .unauthorized(route: "GET /gateway/bot"))
            XCTAssertTrue(error.description.contains("DISCORD_TOKEN"))
            XCTAssertFalse(error.description.contains(wrong))
        }
        XCTAssertFalse(harness.log.text.contains(wrong))
        await client.shutdown()
        await harness.stop()
    }

    func testSlashCommandsOverwriteAndInteractionAnswers() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("guilds") { events.count { $0.isGuildCreate } == 2 }
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        let app = Snowflake(harness.simulator.applicationID)
        let registered = try await client.rest.overwriteCommands(
            applicationID: app, guildID: Snowflake(guild.id),
            commands: [
                ApplicationCommand(
                    name: "voice", description: "Pick a voice",
                    options: [.init(name: "name", description: "voice file", required: true)]),
                ApplicationCommand(name: "settings", description: "Show your settings"),
            ])
        XCTAssertEqual(registered.map(\.name), ["voice", "settings"])
        XCTAssertEqual(harness.simulator.registeredCommandNames(scope: String(guild.id)), ["voice", "settings"])

        harness.simulator.userInvokesCommand(
            userID: guild.humanIDs[0], channelID: guild.textChannelID,
            name: "voice", options: ["name": "NATF1"])
        harness.simulator.userInvokesCommand(
            userID: guild.humanIDs[1], channelID: guild.textChannelID,
            name: "settings")
        await eventually("two interactions") {
            events.count { if case .interactionCreate = $0 { return true } else { return false } } == 2
        }
        let interactions = events.all.compactMap { event -> Interaction? in
            if case let .interactionCreate(interaction) = event { return interaction } else { return nil }
        }
        XCTAssertEqual(interactions[0].data?.option("name"), "NATF1")
        XCTAssertEqual(interactions[0].invoker?.id, Snowflake(guild.humanIDs[0]))
        XCTAssertFalse("\(interactions[0])".contains(interactions[0].token.secretForTests))
        // Quick work: answered directly, ephemeral.
        try await client.rest.respond(to: interactions[0], ephemeral: true) { "Voice set to NATF1 @everyone" }
        // Slow work: deferred at once, then edited.
        try await client.rest.respond(to: interactions[1], ephemeral: true, deferAfter: .milliseconds(200)) {
            try? await Task.sleep(for: .milliseconds(3_500))
            return "Your settings: NATF0"
        }
        let responses = harness.simulator.interactionResponses
        XCTAssertEqual(responses.map(\.type), [4, 5, 0])
        XCTAssertEqual(responses[0].flags, 64)
        XCTAssertEqual(responses[0].allowedMentionsParse, [])
        XCTAssertEqual(responses[1].flags, 64)
        XCTAssertLessThan(responses[1].secondsAfterCreate, 3, "acknowledged within Discord's 3 s")
        XCTAssertEqual(responses[2].content, "Your settings: NATF0")
        run.cancel()
        _ = try? await run.value
        await client.shutdown()
        await harness.stop()
    }
}

extension InteractionToken {
    /// The token text, for checking it is not printed.
    var secretForTests: String {
        let data = try? JSONEncoder().encode(self)
        return data.flatMap { try? JSONDecoder().decode(String.self, from: $0) } ?? "?"
    }
}
