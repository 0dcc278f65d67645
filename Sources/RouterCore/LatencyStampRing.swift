/// Timestamps waiting for the sample they belong to, on one thread: `(position, stamp)` pairs in position order in a
/// fixed ring. Used to measure "data arrived → first output that contains it" across a node's buffer. Not a
/// cross-thread hand-off (that is `Realtime.RealtimeRing`): one node owns it and uses it on the tick thread only.
public struct LatencyStampRing {
    private var positions: [Int]
    private var stamps: [UInt64]
    private var start = 0
    /// Pairs held.
    public private(set) var count = 0
    /// Pairs refused because the ring was full.
    public private(set) var overflows = 0

    /// Room for `capacity` (at least 1) pairs, allocated once.
    public init(capacity: Int) {
        positions = [Int](repeating: 0, count: max(1, capacity))
        stamps = [UInt64](repeating: 0, count: max(1, capacity))
    }

    /// Adds a stamp (`MonotonicClock` nanoseconds) for the item starting at `position` (positions must not decrease).
    public mutating func push(position: Int, stamp: UInt64) {
        guard count < positions.count else {
            overflows += 1
            return
        }
        let i = (start + count) % positions.count
        positions[i] = position
        stamps[i] = stamp
        count += 1
    }

    /// Removes every pair whose position is below `end`, passing each stamp to `body`.
    public mutating func popAll(before end: Int, _ body: (UInt64) -> Void) {
        while count > 0 && positions[start] < end {
            body(stamps[start])
            start = (start + 1) % positions.count
            count -= 1
        }
    }
}
