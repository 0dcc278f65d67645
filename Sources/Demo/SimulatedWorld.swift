import Bot
import Bridge
import Discord
import DiscordSimulator
import DiscordVoice
import Foundation
import Logging
import NIOPosix
import PersonaPlexStandIn
import Realtime
import Synchronization

/// Everything the bridge talks to, on loopback: the Discord simulator (gateway, REST, one voice server per voice
/// channel) and a PersonaPlex server (the built-in stand-in unless a URL is given), with the real bot running the
/// pipeline against them. The demo scripts it; tests drive it.
public final class SimulatedWorld: Sendable {
    public let simulator: DiscordSimulator
    public let voice: SimulatedVoiceNetwork
    /// Every guild (one unless asked for more); `guildID` and the channels below are the first one's.
    public let guilds: [DiscordSimulator.GuildInfo]
    public let guildID: UInt64
    public let textChannelID: UInt64
    public let voiceChannelIDs: [UInt64]
    /// Where the bot's PersonaPlex servers are (`PERSONAPLEX_URL`'s list).
    public let personaPlexURLs: [String]
    public var personaPlexURL: String { personaPlexURLs[0] }
    /// The built-in stand-ins (one per guild), when no URL was given.
    public let standIns: [PersonaPlexStandIn]
    private let group: MultiThreadedEventLoopGroup
    private let simulatorTask: Task<Void, any Error>
    private let bot = Mutex<(task: Task<Int32, Never>, stop: AsyncStream<Void>.Continuation)?>(nil)
    private let summaryList = Mutex<[SessionSummary]>([])
    private let botExited = Atomic<Bool>(false)

    /// Starts the simulator with `guildCount` guilds (each with a text channel and two voice channels, each with a
    /// voice server) and, unless `personaPlexURL` is given, one PersonaPlex stand-in per guild (a PersonaPlex
    /// server holds one session at a time).
    public init(
        personaPlexURL: String? = nil, voiceOptions: SimulatedVoiceOptions = .discordLike, guildCount: Int = 1
    ) async throws {
        if let personaPlexURL {
            personaPlexURLs = [personaPlexURL]
            standIns = []
        } else {
            var started: [PersonaPlexStandIn] = []
            for _ in 0..<max(1, guildCount) { started.append(try await PersonaPlexStandIn.start()) }
            standIns = started
            personaPlexURLs = started.map(\.url)
        }
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        voice = SimulatedVoiceNetwork(group: group, options: voiceOptions)
        // Shaped like a real token (three dot-separated parts), random for each world.
        let secret = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        var configuration = SimulatorConfiguration(botToken: "U2ltdWxhdGVk.Qm90." + secret)
        configuration.guildCount = max(1, guildCount)
        configuration.humansPerGuild = 0
        voice.install(into: &configuration)
        var simulatorLog = Logger(label: "discord.simulator")
        simulatorLog.logLevel = .warning
        simulator = DiscordSimulator(configuration: configuration, logger: simulatorLog)
        simulatorTask = try await simulator.start()
        guilds = simulator.guilds
        guard let guild = guilds.first, !guild.voiceChannelIDs.isEmpty else {
            throw DemoError("the simulator created no guild with a voice channel")
        }
        guildID = guild.id
        textChannelID = guild.textChannelID
        voiceChannelIDs = guild.voiceChannelIDs
        try await voice.start(channels: guilds.flatMap(\.voiceChannelIDs))
    }

    /// The variables the bot runs with: `base` (the user's .env) pointed at this world.
    public func botEnvironment(_ base: [String: String], dataDirectory: String) -> [String: String] {
        var variables = base
        variables["DISCORD_TOKEN"] = simulator.configuration.botToken
        variables["DISCORD_API_BASE"] = simulator.apiBase
        variables["DISCORD_GATEWAY_URL"] = simulator.gatewayURL
        variables["DISCORD_VOICE_SCHEME"] = "ws"
        for name in ["DISCORD_CA_FILE", "DISCORD_GUILD_ID", "STATUS_CHANNEL_ID", "VOICE_PROMPT_DIR"] {
            variables[name] = nil
        }
        variables["PERSONAPLEX_URL"] = personaPlexURLs.joined(separator: ",")
        variables["DATA_DIR"] = dataDirectory
        if variables["LOG_LEVEL"]?.isEmpty ?? true { variables["LOG_LEVEL"] = "warning" }
        return variables
    }

    /// Starts the bot with `pipeline`; returns once it registered its commands (it is then listening).
    public func startBot(
        pipeline: BridgePipeline, environment: [String: String] = [:], dataDirectory: String,
        logHandler: @escaping @Sendable (String) -> any LogHandler = { StreamLogHandler.standardError(label: $0) },
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        let variables = botEnvironment(environment, dataDirectory: dataDirectory)
        let (stopRequests, stop) = AsyncStream<Void>.makeStream()
        botExited.store(false, ordering: .relaxed)
        let task = Task {
            defer { self.botExited.store(true, ordering: .relaxed) }
            return await BridgeLauncher.run(
                pipeline: pipeline, environment: variables, stopRequests: stopRequests,
                onSummary: { [weak self] summary in self?.summaryList.withLock { $0.append(summary) } },
                logHandler: logHandler,
                report: report)
        }
        bot.withLock { $0 = (task, stop) }
        let simulator = simulator
        let up = await simulator.waitUntil(timeout: .seconds(30)) {
            botExited.load(ordering: .relaxed)
                || simulator.recordedRequests.contains { $0.path.hasSuffix("/commands") && $0.status < 300 }
        }
        guard !botExited.load(ordering: .relaxed) else {
            throw DemoError("the bot stopped at start (exit code \(await stopBot()))")
        }
        guard up else { throw DemoError("the bot did not come up (exit code \(await stopBot()))") }
    }

    /// Asks the bot to stop as on SIGTERM (every session ends cleanly) and returns its exit code.
    @discardableResult
    public func stopBot() async -> Int32 {
        guard let (task, stop) = bot.withLock({ $0 }) else { return 0 }
        stop.yield()
        return await task.value
    }

    /// Every session summary so far.
    public var summaries: [SessionSummary] { summaryList.withLock { $0 } }

    /// The bot's voice channel in the (first) guild, as the simulator sees it.
    public var botVoiceChannel: UInt64? { botVoiceChannel(guildID: guildID) }

    /// The bot's voice channel in `guildID`.
    public func botVoiceChannel(guildID: UInt64) -> UInt64? {
        simulator.voiceChannel(of: simulator.botUserID, guildID: guildID)
    }

    /// A new member of a guild (the first by default) who joins `channel` (its first voice channel by default) and
    /// waits until they are in the call with the bot (same DAVE group).
    public func humanJoins(_ name: String, guild: Int = 0, channel: UInt64? = nil, timeout: Double = 20)
        async throws -> SimulatedHuman
    {
        let guildID = guilds[guild].id
        let channel = channel ?? guilds[guild].voiceChannelIDs[0]
        // A first human starts a session: wait until the bot says it is running (its graph ticks), not only until
        // the bot is in the call (it joins voice before the session has finished starting).
        let startsSession = botVoiceChannel(guildID: guildID) != channel
        let startedBefore = sessionsStarted
        let userID = simulator.addMember(guildID: guildID, name: name)
        let connection = try await voice.connectHuman(
            simulator, userID: userID, guildID: guildID, channelID: channel)
        let human = SimulatedHuman(
            name: name, userID: userID, guildID: guildID, channelID: channel, connection: connection)
        let botID = simulator.botUserID
        let joined = await Self.waitFor(seconds: timeout) { [self] in
            guard botVoiceChannel(guildID: guildID) == channel, let status = await connection.status(),
                status.phase == .connected,
                let server = voice.server(channel), let snapshot = await server.snapshot()
            else { return false }
            return snapshot.groupMembers.contains(botID) && snapshot.groupMembers.contains(userID)
        }
        guard joined else { throw DemoError("the bot did not join \(name) in the voice channel") }
        if startsSession {
            let running = await Self.waitFor(seconds: timeout) { self.sessionsStarted > startedBefore }
            guard running else { throw DemoError("the bot's session for \(name) did not start: \(chat.suffix(3))") }
        }
        return human
    }

    /// The human leaves voice.
    public func humanLeaves(_ human: SimulatedHuman) async {
        await voice.disconnectHuman(
            simulator, human.connection, userID: human.userID, guildID: human.guildID, channelID: human.channelID)
    }

    /// How many "Voice session started" messages the bot posted.
    public var sessionsStarted: Int { chat.filter { $0.contains("Voice session started") }.count }

    /// What the bot posted, in order.
    public var chat: [String] { simulator.postedMessages.map(\.content) }

    /// Stops the bot and everything else.
    public func shutdown() async {
        await stopBot()
        await voice.shutdown()
        for standIn in standIns { await standIn.stop() }
        simulatorTask.cancel()
        try? await group.shutdownGracefully()
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    public static func waitFor(seconds: Double, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }
}

/// A scripted person in the voice channel (our own voice stack as their client).
public struct SimulatedHuman: Sendable {
    public var name: String
    public var userID: UInt64
    public var guildID: UInt64
    public var channelID: UInt64
    public var connection: VoiceConnection

    /// Speaks `wav` (or nothing; over and over with `loop`) for `seconds` on a dedicated real-time thread,
    /// recording what `listenTo` says.
    public func run(seconds: Double, speak wav: String?, listenTo: UInt64?, record: String?, loop: Bool = false)
        async throws
        -> SimulatedVoiceUser.Report
    {
        let connection = connection, userID = userID
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        try SimulatedVoiceUser(connection: connection, userID: userID).run(
                            seconds: seconds, speak: wav, listenTo: listenTo, record: record, loop: loop)
                    })
            }
            thread.name = "human-\(userID)"
            thread.start()
        }
    }
}
