import Bot
import Discord
import DiscordSimulator
import Foundation
import Logging
import NIOCore
import NIOPosix
import XCTest

/// The bot end to end: the real Discord library (gateway + REST) talks to the protocol-faithful Discord simulator on
/// loopback; two TCP listeners stand in for the PersonaPlex backends (the session service checks they answer).
final class BotSimulatorTests: XCTestCase {
    static let token = Fixture.canaryToken

    /// One bot process: client + adapter + service, running until `stop()`.
    struct RunningBot {
        let client: DiscordClient
        let transport: DiscordBotTransport
        let service: BotService
        let task: Task<Void, Never>

        func stop() async {
            task.cancel()
            await task.value
            await client.shutdown()
        }
    }

    func startBot(
        simulator: DiscordSimulator, backendPorts: [Int], dataDirectory: String,
        log: CapturedLog
    ) throws -> RunningBot {
        let configuration = try BotConfiguration.parse([
            "DISCORD_TOKEN": Self.token, "DATA_DIR": dataDirectory, "LOG_LEVEL": "trace",
            "PERSONAPLEX_URL": backendPorts.map { "ws://127.0.0.1:\($0)/api/chat" }.joined(separator: ","),
        ])
        // No redaction in front of the capture: the test proves nothing writes the token in the first place.
        var logger = Logger(label: "bot") { log.handler(label: $0) }
        logger.logLevel = .trace
        var discord = DiscordConfiguration(
            token: try DiscordToken(Self.token),
            apiBase: try DiscordURL(simulator.apiBase, allowed: ["http"]),
            gatewayURL: try DiscordURL(simulator.gatewayURL, allowed: ["ws"]))
        discord.reconnectDelay = .milliseconds(50)
        let client = try DiscordClient(configuration: discord, logger: logger)
        let transport = DiscordBotTransport(client: client)
        let service = try BotService(configuration: configuration, transport: transport, logger: logger)
        let task = Task {
            if let sessions = service.sessions as? GatewayVoiceSessions { await client.setVoiceHandler(sessions) }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await client.run() }
                group.addTask { await service.runner.run(events: transport.events()) }
                await group.next()
                group.cancelAll()
                service.runner.finish()
            }
        }
        return RunningBot(client: client, transport: transport, service: service, task: task)
    }

    func listener() async throws -> Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Waits for the `count`th Identify: READY and GUILD_CREATE follow on that connection before anything a
    /// scripted user does afterwards.
    func identifies(_ simulator: DiscordSimulator, count: Int) async -> Bool {
        await simulator.waitUntil(timeout: .seconds(30)) {
            simulator.receivedPayloads.filter { $0.op == 2 }.count >= count
        }
    }

    func messages(_ simulator: DiscordSimulator, in channel: UInt64) -> [String] {
        simulator.postedMessages.filter { $0.channelID == channel }.map(\.content)
    }

    func testBotEndToEndAgainstTheSimulator() async throws {
        var simulatorConfiguration = SimulatorConfiguration(botToken: Self.token)
        simulatorConfiguration.guildCount = 3
        simulatorConfiguration.humansPerGuild = 2
        let simulator = DiscordSimulator(configuration: simulatorConfiguration)
        let simulatorTask = try await simulator.start()
        let backends = [try await listener(), try await listener()]
        let ports = backends.compactMap { $0.localAddress?.port }
        let data = Fixture.temporaryDirectory()
        let log = CapturedLog()
        let guilds = simulator.guilds
        XCTAssertEqual(guilds.count, 3)
        let (g1, g2, g3) = (guilds[0], guilds[1], guilds[2])

        var bot = try startBot(simulator: simulator, backendPorts: ports, dataDirectory: data, log: log)
        let registered = await simulator.waitUntil(timeout: .seconds(30)) {
            simulator.registeredCommandNames(scope: "global").count == BotCommand.names.count
        }
        XCTAssertTrue(registered, "slash commands registered by bulk overwrite")
        let commands = simulator.registeredCommands(scope: "global")
        let prompt = commands.first { $0.name == "prompt" }?.options.first
        XCTAssertEqual(prompt?.maxLength, PromptRules.limit, "Discord's client enforces the prompt limit too")
        XCTAssertEqual(prompt?.required, true)
        XCTAssertTrue(commands.allSatisfy { $0.contexts == [0] && $0.integrationTypes == [0] }, "guild only")
        let identified = await identifies(simulator, count: 1)
        XCTAssertTrue(identified, "the bot identified on the gateway")

        // Settings by prefix and slash command; hostile input.
        let alice = g1.humanIDs[0]
        simulator.userSendsMessage(userID: alice, channelID: g1.textChannelID, content: "!voice ../../etc/passwd")
        simulator.userSendsMessage(userID: alice, channelID: g1.textChannelID, content: "!voice natm1")
        simulator.userInvokesCommand(
            userID: alice, channelID: g1.textChannelID, name: "persona",
            options: ["preset": "astronaut"])
        var ok = await simulator.waitUntil(timeout: .seconds(20)) {
            self.messages(simulator, in: g1.textChannelID).count >= 2 && simulator.interactionResponses.count >= 1
        }
        XCTAssertTrue(ok)
        let replies = messages(simulator, in: g1.textChannelID)
        XCTAssertTrue(replies.first?.contains("not a voice name") == true, "\(replies)")
        XCTAssertTrue(replies.contains { $0.contains("Your voice is now **NATM1**") }, "\(replies)")
        XCTAssertTrue(simulator.postedMessages.allSatisfy { $0.allowedMentionsParse == [] }, "mentions disabled")
        let persona = simulator.interactionResponses.first
        XCTAssertEqual((persona?.flags ?? 0) & 64, 64, "ephemeral")
        XCTAssertTrue(persona?.content?.contains("persona is now **astronaut**") == true)

        // Auto-join in two guilds, busy and queued in the third (two backends).
        simulator.userJoinsVoice(userID: alice, guildID: g1.id, channelID: g1.voiceChannelIDs[0])
        simulator.userJoinsVoice(userID: g2.humanIDs[0], guildID: g2.id, channelID: g2.voiceChannelIDs[0])
        ok = await simulator.waitUntil(timeout: .seconds(30)) {
            simulator.voiceChannel(of: simulator.botUserID, guildID: g1.id) == g1.voiceChannelIDs[0]
                && simulator.voiceChannel(of: simulator.botUserID, guildID: g2.id) == g2.voiceChannelIDs[0]
                && self.messages(simulator, in: g1.voiceChannelIDs[0]).contains { $0.contains("session started") }
        }
        XCTAssertTrue(ok, "joined both: \(simulator.postedMessages.map(\.content))")
        let started = messages(simulator, in: g1.voiceChannelIDs[0]).first { $0.contains("session started") } ?? ""
        XCTAssertTrue(started.contains("voice **NATM1**, persona **astronaut**"), started)

        let carol = g3.humanIDs[0]
        simulator.userJoinsVoice(userID: carol, guildID: g3.id, channelID: g3.voiceChannelIDs[0])
        ok = await simulator.waitUntil(timeout: .seconds(20)) {
            self.messages(simulator, in: g3.voiceChannelIDs[0]).contains { $0.contains("number 1 in the queue") }
        }
        XCTAssertTrue(ok, "busy and queued")
        XCTAssertNil(simulator.voiceChannel(of: simulator.botUserID, guildID: g3.id))

        // Alice leaves: the bot leaves guild 1 and comes to Carol.
        simulator.userLeavesVoice(userID: alice, guildID: g1.id)
        ok = await simulator.waitUntil(timeout: .seconds(30)) {
            simulator.voiceChannel(of: simulator.botUserID, guildID: g1.id) == nil
                && simulator.voiceChannel(of: simulator.botUserID, guildID: g3.id) == g3.voiceChannelIDs[0]
                && self.messages(simulator, in: g1.voiceChannelIDs[0]).contains { $0.contains("ended after") }
                && self.messages(simulator, in: g3.voiceChannelIDs[0]).contains { $0.contains("I'm coming to") }
                && self.messages(simulator, in: g3.voiceChannelIDs[0]).contains { $0.contains("session started") }
        }
        XCTAssertTrue(ok, "left guild 1 and came to the queued user: \(simulator.postedMessages.map(\.content))")

        // An AI sentence with @everyone goes out with mentions disabled and defused.
        let sink = AIChatSink(
            transport: bot.transport, channelID: Snowflake(g3.voiceChannelIDs[0]),
            logger: Logger(label: "ai"))
        await sink.post("Attention @everyone, the reactor is fine.")
        let ai = simulator.postedMessages.last { $0.content.contains("reactor") }
        XCTAssertEqual(ai?.allowedMentionsParse, [])
        XCTAssertFalse(ai?.content.contains("@everyone") ?? true)

        // Restart: a new process on the same data directory remembers Alice's choices.
        await bot.stop()
        bot = try startBot(simulator: simulator, backendPorts: ports, dataDirectory: data, log: log)
        let again = await identifies(simulator, count: 2)
        XCTAssertTrue(again, "the restarted bot identified")
        simulator.userSendsMessage(userID: alice, channelID: g1.textChannelID, content: "!settings")
        ok = await simulator.waitUntil(timeout: .seconds(30)) {
            self.messages(simulator, in: g1.textChannelID).contains { $0.contains("Your settings") }
        }
        XCTAssertTrue(ok)
        let shown = messages(simulator, in: g1.textChannelID).last { $0.contains("Your settings") } ?? ""
        XCTAssertTrue(shown.contains("voice **NATM1**, persona **astronaut**"), shown)

        await bot.stop()
        simulatorTask.cancel()
        _ = await simulatorTask.result
        for backend in backends { try await backend.close() }

        let text = log.text
        XCTAssertFalse(text.isEmpty)
        XCTAssertFalse(text.contains(Self.token), "the token leaked into the log")
        XCTAssertFalse(text.contains("CANARY"), "part of the token leaked into the log")
    }
}
