/// Which shards this process runs, out of how many.
public struct ShardPlan: Sendable, Equatable {
    public var count: Int
    public var ids: [Int]

    /// `SHARD_COUNT` / `SHARD_IDS` when configured, else all of Discord's recommended count.
    public init(configuredCount: Int?, configuredIDs: [Int]?, recommended: Int) {
        count = max(1, configuredCount ?? recommended)
        ids = configuredIDs ?? Array(0..<count)
    }

    /// The shard that receives a guild's events: `(guild_id >> 22) % count`.
    public static func shard(for guildID: Snowflake, count: Int) -> Int {
        Int((guildID.rawValue >> 22) % UInt64(max(1, count)))
    }
}
