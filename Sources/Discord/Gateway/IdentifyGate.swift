import Logging
import Realtime

/// Paces Identify across this process's shards: `max_concurrency` buckets (`shard_id % max_concurrency`), one
/// Identify per bucket per 5 s; warns when the daily session-start budget runs low and, when it is used up,
/// waits for its reset instead of identifying (reaching the limit resets the token).
actor IdentifyGate {
    static let spacingNanos: UInt64 = 5_000_000_000

    private let maxConcurrency: Int
    private var remaining: Int
    private let total: Int
    private var resetAt: UInt64
    private var nextSlot: [Int: UInt64] = [:]
    /// Per bucket: the last grant's shard and the slot pointer before it, so an unused turn can be given back.
    private var lastGrant: [Int: (shardID: Int, previous: UInt64?)] = [:]
    private let scheduler: any GatewayScheduler
    private let logger: Logger

    init(limit: GatewayBotInfo.SessionStartLimit, scheduler: any GatewayScheduler, logger: Logger) {
        maxConcurrency = max(1, limit.maxConcurrency)
        remaining = max(0, limit.remaining)
        total = max(1, limit.total)
        let now = scheduler.clock.nowNanoseconds()
        resetAt = Nanoseconds.adding(now, UInt64(max(0, limit.resetAfter)) * 1_000_000)
        self.scheduler = scheduler
        self.logger = logger
    }

    /// Returns when shard `shardID` may send Identify.
    func waitTurn(shardID: Int) async throws {
        var now = scheduler.clock.nowNanoseconds()
        if remaining <= 0 && now < resetAt {
            logger.error(
                "Discord session start limit used up; waiting for its reset before identifying",
                metadata: ["shard": "\(shardID)", "seconds": "\((resetAt - now) / 1_000_000_000)"])
            try await scheduler.sleep(until: resetAt)
            now = scheduler.clock.nowNanoseconds()
        }
        if now >= resetAt {
            remaining = total
            resetAt = Nanoseconds.adding(now, 86_400 * Nanoseconds.perSecond)
        }
        let bucket = shardID % maxConcurrency
        let slot = max(now, nextSlot[bucket] ?? 0)
        lastGrant[bucket] = (shardID, nextSlot[bucket])
        nextSlot[bucket] = Nanoseconds.adding(slot, Self.spacingNanos)
        remaining -= 1
        if remaining <= max(10, total / 10) {
            logger.warning(
                "few Discord session starts left today; at 0 Discord resets the token",
                metadata: ["remaining": "\(remaining)", "total": "\(total)"])
        }
        try await scheduler.sleep(until: slot)
    }

    /// Gives back shard `shardID`'s last turn when no Identify was sent with it (the connection failed before
    /// Hello): Discord counted nothing, so the next attempt need not wait 5 s nor spend a session start.
    func release(shardID: Int) {
        let bucket = shardID % maxConcurrency
        remaining = min(total, remaining + 1)
        // The slot only while no other shard's grant in the bucket came after it.
        if let grant = lastGrant[bucket], grant.shardID == shardID {
            nextSlot[bucket] = grant.previous
            lastGrant[bucket] = nil
        }
    }
}
