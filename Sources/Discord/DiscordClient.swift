import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The bot's connection to Discord: REST, the gateway shards this process runs, the cache, and the voice
/// hand-off. Events arrive on `events` (one stream for all shards, in order per shard).
public final class DiscordClient: VoiceChannelControl, Sendable {
    public let configuration: DiscordConfiguration
    public let rest: DiscordREST
    public let cache = DiscordCache()
    /// Every event from every shard.
    public let events: AsyncStream<DiscordEvent>
    /// How long op 4 waits for Discord's voice state and server updates.
    public let voiceTimeout: Duration

    private let eventContinuation: AsyncStream<DiscordEvent>.Continuation
    private let group: any EventLoopGroup
    private let scheduler: any GatewayScheduler
    private let logger: Logger
    private let voice: VoiceStateCollector
    private let shards = Mutex<[Int: GatewayShard]>([:])
    private let shardCount = Mutex(1)
    private let identifyObserver: @Sendable (Int) -> Void

    /// - Parameters:
    ///   - identifySent: called with the shard id each time Identify is sent (measurements, tests).
    public init(
        configuration: DiscordConfiguration, logger: Logger,
        scheduler: any GatewayScheduler = SystemScheduler(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        voiceTimeout: Duration = .seconds(10),
        identifySent: @escaping @Sendable (Int) -> Void = { _ in }
    ) throws(DiscordError) {
        self.configuration = configuration
        self.logger = logger
        self.scheduler = scheduler
        group = eventLoopGroup
        self.voiceTimeout = voiceTimeout
        identifyObserver = identifySent
        rest = try DiscordREST(
            configuration: configuration, logger: logger, scheduler: scheduler,
            eventLoopGroup: eventLoopGroup)
        voice = VoiceStateCollector(logger: logger)
        let (stream, continuation) = AsyncStream<DiscordEvent>.makeStream(bufferingPolicy: .unbounded)
        events = stream
        eventContinuation = continuation
    }

    /// The voice layer that receives complete voice server pairs.
    public func setVoiceHandler(_ handler: (any VoiceServerUpdates)?) async {
        await voice.setHandler(handler)
    }

    /// Connects every shard of this process and runs until cancelled. Throws the first shard's fatal error
    /// (4004, 4014, …) once every shard has stopped; a wrong token fails before connecting (401 on
    /// `GET /gateway/bot`).
    public func run() async throws {
        defer { eventContinuation.finish() }
        let info = try await rest.gatewayBot()
        let plan = ShardPlan(
            configuredCount: configuration.shardCount, configuredIDs: configuration.shardIDs,
            recommended: info.shards)
        let gatewayURL: DiscordURL
        if let configured = configuration.gatewayURL {
            gatewayURL = configured
        } else {
            gatewayURL = try DiscordURL(info.url, allowed: ["wss", "ws"], setting: "GET /gateway/bot url")
        }
        // Made even for a ws:// gateway: READY's resume_gateway_url may be wss://.
        let tls = try DiscordTLS.makeContext(caFile: configuration.caFile)
        let gate = IdentifyGate(limit: info.sessionStartLimit, scheduler: scheduler, logger: logger)
        let continuation = eventContinuation
        let environment = ShardEnvironment(
            configuration: configuration, group: group, tls: tls, scheduler: scheduler, logger: logger,
            identifyGate: gate, cache: cache, voice: voice, emit: { continuation.yield($0) },
            identifySent: identifyObserver)
        shardCount.withLock { $0 = plan.count }
        let running = plan.ids.map { GatewayShard(id: $0, count: plan.count, environment: environment) }
        shards.withLock { map in for shard in running { map[shard.id] = shard } }
        logger.info(
            "starting gateway shards",
            metadata: [
                "shards": "\(plan.ids)", "count": "\(plan.count)",
                "session_starts_left": "\(info.sessionStartLimit.remaining)",
            ])
        let firstError: DiscordError? = await withTaskGroup(of: DiscordError?.self) { tasks in
            for shard in running {
                tasks.addTask {
                    let error = await shard.run(gatewayURL: gatewayURL)
                    if let error { continuation.yield(.shardStopped(shard: shard.id, error: error)) }
                    return error
                }
            }
            var first: DiscordError?
            for await result in tasks where first == nil { first = result }
            return first
        }
        if let firstError { throw firstError }
    }

    /// The shard that owns `guildID` here, if this process runs it.
    func shard(for guildID: Snowflake) -> GatewayShard? {
        let count = shardCount.withLock { $0 }
        let id = ShardPlan.shard(for: guildID, count: count)
        return shards.withLock { $0[id] }
    }

    /// op 4 on the owning shard: joins or moves to `channelID`, or leaves with `nil`; returns once Discord's
    /// updates arrived (the voice handler has been given the pair for a join), throws `voiceTimeout` otherwise.
    public func updateVoiceState(
        guildID: Snowflake, channelID: Snowflake?, selfMute: Bool = false,
        selfDeaf: Bool = false
    ) async throws {
        guard let shard = shard(for: guildID) else { throw DiscordError.unknownGuild(guildID) }
        if channelID != nil { await voice.expectJoin(guildID: guildID) }
        let voice = self.voice
        let timeout = voiceTimeout
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await voice.waitForCompletion(guildID: guildID, channelID: channelID)
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            do {
                try await shard.sendVoiceState(
                    guildID: guildID, channelID: channelID, selfMute: selfMute,
                    selfDeaf: selfDeaf)
            } catch {
                group.cancelAll()
                await voice.timedOut(guildID: guildID)
                throw error
            }
            let completed = try await group.next() ?? false
            group.cancelAll()
            if !completed {
                await voice.timedOut(guildID: guildID)
                throw DiscordError.voiceTimeout(guild: guildID)
            }
        }
    }

    /// Closes REST's connection pool; call after `run` returned.
    public func shutdown() async {
        await rest.shutdown()
    }
}
