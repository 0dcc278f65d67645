import DiscordSimulator
import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import XCTest

@testable import Discord

/// The simulator behaves as Discord's gateway does beyond the happy path: a client that stops heartbeating is
/// closed with 4009, dispatches follow the Identify's intents, message content needs MESSAGE_CONTENT, and
/// privileged intents must be enabled.
final class SimulatorProtocolTests: XCTestCase {
    private static let guilds = 1 << 0
    private static let guildMembers = 1 << 1
    private static let voiceStates = 1 << 7
    private static let guildMessages = 1 << 9

    private func identifyPayload(intents: Int) -> String {
        #"{"op":2,"d":{"token":"\#(Harness.token)","intents":\#(intents),"#
            + #""properties":{"os":"linux","browser":"raw","device":"raw"}}}"#
    }

    /// Opens a raw gateway connection, sends `payloads`, then a heartbeat every `beatEvery` (never when `nil`);
    /// returns the server's close code and when it came.
    private func rawSession(
        _ harness: Harness, payloads: [String], beatEvery: Duration?, giveUpAfter: Duration
    ) async throws -> (code: Int?, after: Duration) {
        let url = try DiscordURL(harness.simulator.gatewayURL + "?v=10&encoding=json", allowed: ["ws"])
        let connection = try await GatewayWebSocket.connect(
            to: url, tls: nil, group: MultiThreadedEventLoopGroup.singleton, userAgent: "raw-test")
        let clock = ContinuousClock()
        let start = clock.now
        let code: Int? = try await connection.executeThenClose { inbound, outbound in
            for payload in payloads {
                try await outbound.write(
                    WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: payload)))
            }
            return try await withThrowingTaskGroup(of: Int?.self) { group in
                group.addTask {
                    for try await frame in inbound where frame.opcode == .connectionClose {
                        var data = frame.unmaskedData
                        return data.readInteger(as: UInt16.self).map(Int.init)
                    }
                    return nil
                }
                group.addTask {
                    let deadline = clock.now.advanced(by: giveUpAfter)
                    while clock.now < deadline {
                        try await Task.sleep(for: beatEvery ?? giveUpAfter)
                        guard beatEvery != nil else { continue }
                        try? await outbound.write(
                            WebSocketFrame(
                                fin: true, opcode: .text, maskKey: .random(),
                                data: ByteBuffer(string: #"{"op":1,"d":null}"#)))
                    }
                    return -1
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }
        return (code, clock.now - start)
    }

    func testSilentConnectionIsClosedWith4009AndABeatingOneIsNot() async throws {
        let harness = try await Harness.start(self) {
            $0.heartbeatIntervalMillis = 1_000
            $0.heartbeatTimeoutGraceMillis = 0
        }
        let silent = try await rawSession(
            harness, payloads: [identifyPayload(intents: Self.guilds)], beatEvery: nil,
            giveUpAfter: .seconds(20))
        XCTAssertEqual(silent.code, 4009)
        XCTAssertGreaterThanOrEqual(silent.after, .milliseconds(1_450), "not before 1.5 intervals")
        XCTAssertLessThan(silent.after, .seconds(10))
        let beating = try await rawSession(
            harness, payloads: [identifyPayload(intents: Self.guilds)], beatEvery: .milliseconds(250),
            giveUpAfter: .milliseconds(4_000))
        XCTAssertEqual(beating.code, -1, "a client heartbeating every interval stays connected")
        XCTAssertEqual(harness.simulator.serverCloseCodes, [4009])
    }

    /// Our client with a frozen clock never beats: the simulator times the session out and the client, seeing
    /// 4009, starts a new session with Identify rather than Resume.
    func testClientThatStopsHeartbeatingIsTimedOutAndIdentifiesAnew() async throws {
        let harness = try await Harness.start(self) {
            $0.heartbeatIntervalMillis = 300
            $0.heartbeatTimeoutGraceMillis = 100
        }
        let scheduler = ManualScheduler()
        let client = try DiscordClient(
            configuration: try harness.clientConfiguration(), logger: harness.log.logger("client"),
            scheduler: scheduler)
        addTeardownBlock {
            scheduler.cancelAll()
            await client.shutdown()
        }
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        let sim = harness.simulator
        func ops(_ op: Int) -> Int { sim.receivedPayloads.filter { $0.op == op }.count }
        await eventually("READY") { events.count { $0.isReady } == 1 }
        await eventually("4009 from the simulator") { sim.serverCloseCodes.contains(4009) }
        XCTAssertEqual(ops(1), 0, "the frozen client sent no heartbeat")
        // Let the client's reconnect delay and the Identify pacing pass in its virtual time.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(20))
        while ops(2) < 2 && clock.now < deadline {
            scheduler.advance(milliseconds: 6_000)
            try await Task.sleep(for: .milliseconds(50))
        }
        await eventually("a second READY") { events.count { $0.isReady } == 2 }
        XCTAssertEqual(sim.serverCloseCodes.first, 4009)
        XCTAssertEqual(ops(2), 2, "a new session after 4009")
        XCTAssertEqual(ops(6), 0, "no Resume of the timed-out session")
        run.cancel()
        scheduler.cancelAll()
        _ = try? await run.value
    }

    func testDispatchesFollowTheIdentifyIntents() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient { $0.intents = Self.guilds }
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("GUILD_CREATEs with GUILDS") { events.count { $0.isGuildCreate } == 2 }
        let sim = harness.simulator
        let guild = try XCTUnwrap(sim.guilds.first)
        sim.userJoinsVoice(userID: guild.humanIDs[0], guildID: guild.id, channelID: guild.voiceChannelIDs[0])
        sim.userSendsMessage(userID: guild.humanIDs[1], channelID: guild.textChannelID, content: "hello")
        sim.addMember(guildID: guild.id, name: "newcomer")
        // Interactions need no intent; arriving after the others, it shows they were left out, not late.
        sim.userInvokesCommand(userID: guild.humanIDs[0], channelID: guild.textChannelID, name: "help")
        await eventually("the interaction") {
            events.count { if case .interactionCreate = $0 { return true } else { return false } } == 1
        }
        XCTAssertEqual(events.count { if case .voiceStateUpdate = $0 { return true } else { return false } }, 0)
        XCTAssertEqual(events.messageContents, [])
        run.cancel()
        _ = try? await run.value
    }

    func testWithoutMessageContentOnlyOwnAndMentioningMessagesKeepTheirText() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient { $0.intents = Self.guilds | Self.voiceStates | Self.guildMessages }
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("GUILD_CREATEs") { events.count { $0.isGuildCreate } == 2 }
        let sim = harness.simulator
        let guild = try XCTUnwrap(sim.guilds.first)
        sim.userSendsMessage(userID: guild.humanIDs[0], channelID: guild.textChannelID, content: "!prompt secret")
        sim.userSendsMessage(
            userID: guild.humanIDs[0], channelID: guild.textChannelID, content: "<@\(sim.botUserID)> help")
        try await client.rest.sendMessage(channelID: Snowflake(guild.textChannelID), text: "bot's own words")
        await eventually("three messages") { events.messageContents.count == 3 }
        XCTAssertEqual(events.messageContents, ["", "<@\(sim.botUserID)> help", "bot's own words"])
        // Voice states still arrive: GUILD_VOICE_STATES was asked for.
        sim.userJoinsVoice(userID: guild.humanIDs[0], guildID: guild.id, channelID: guild.voiceChannelIDs[0])
        await eventually("VOICE_STATE_UPDATE") {
            events.count { if case .voiceStateUpdate = $0 { return true } else { return false } } == 1
        }
        run.cancel()
        _ = try? await run.value
    }

    func testPrivilegedIntentNotEnabledIsClosedWith4014() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient { $0.intents = DiscordConfiguration.defaultIntents | Self.guildMembers }
        do {
            try await client.run()
            XCTFail("GUILD_MEMBERS was accepted without being enabled")
        } catch let error as DiscordError {
            guard case let .gatewayFatal(code, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(code, 4014)
        }
        XCTAssertEqual(harness.simulator.serverCloseCodes, [4014])
        // Enabled in the "Developer Portal", the same Identify is accepted.
        let enabled = try await Harness.start(self) {
            $0.enabledPrivilegedIntents = GatewayIntent.messageContent | GatewayIntent.guildMembers
        }
        let allowed = try enabled.makeClient { $0.intents = DiscordConfiguration.defaultIntents | Self.guildMembers }
        let events = EventRecorder(allowed)
        let run = Task { try await allowed.run() }
        await eventually("READY") { events.count { $0.isReady } == 1 }
        run.cancel()
        _ = try? await run.value
    }

    func testGuildCreateWithoutPresencesListsOnlyTheBotAndVoiceMembers() async throws {
        let harness = try await Harness.start(self) { $0.humansPerGuild = 4 }
        let sim = harness.simulator
        let guild = try XCTUnwrap(sim.guilds.first)
        sim.userJoinsVoice(userID: guild.humanIDs[2], guildID: guild.id, channelID: guild.voiceChannelIDs[1])
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("GUILD_CREATEs") { events.count { $0.isGuildCreate } == 2 }
        let created = events.all.compactMap { event -> Guild? in
            if case let .guildCreate(created) = event, created.id == Snowflake(guild.id) { return created }
            return nil
        }
        let members = Set(created.first?.members?.compactMap { $0.user?.id.rawValue } ?? [])
        XCTAssertEqual(members, [sim.botUserID, guild.humanIDs[2]])
        XCTAssertEqual(
            client.cache.usersInVoiceChannel(Snowflake(guild.voiceChannelIDs[1]), guildID: Snowflake(guild.id))
                .map(\.isBot), [false])
        run.cancel()
        _ = try? await run.value
    }
}
