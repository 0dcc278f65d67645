/// Discord allows 120 gateway sends per connection per 60 s (heartbeats included) and closes with 4008 beyond.
/// We budget 110 for everything: ordinary sends wait for a free slot, heartbeats never wait (there are ~2 per
/// minute, so the total stays under 120) but are counted.
struct SendBudget: Sendable {
    static let limit = 110
    static let windowNanos: UInt64 = 60_000_000_000

    /// Send times inside the current window, oldest first (bounded by `limit` + heartbeats of one window).
    private var sent: [UInt64] = []

    init() { sent.reserveCapacity(Self.limit + 8) }

    /// Nanoseconds to wait before an ordinary send at `now` may go (0 = now).
    mutating func delayBeforeSend(now: UInt64) -> UInt64 {
        expire(now: now)
        guard sent.count >= Self.limit else { return 0 }
        let oldestThatMustExpire = sent[sent.count - Self.limit]
        return oldestThatMustExpire + Self.windowNanos - now
    }

    mutating func record(now: UInt64) {
        expire(now: now)
        sent.append(now)
    }

    func count(now: UInt64) -> Int { sent.filter { $0 + Self.windowNanos > now }.count }

    private mutating func expire(now: UInt64) {
        let firstLive = sent.firstIndex { $0 + Self.windowNanos > now } ?? sent.count
        if firstLive > 0 { sent.removeFirst(firstLive) }
    }
}
