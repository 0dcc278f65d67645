import Foundation

/// Monotonic time source in nanoseconds; injected so tests can advance virtual time.
public protocol MonotonicClock: AnyObject {
    /// Nanoseconds since an arbitrary fixed origin; never decreases.
    func nowNanoseconds() -> UInt64
}

/// The process's monotonic clock.
public final class SystemMonotonicClock: MonotonicClock {
    /// Creates a clock reading `DispatchTime` uptime.
    public init() {}
    /// Current uptime in nanoseconds.
    public func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// A clock that only moves when told to (tests, simulations).
public final class ManualClock: MonotonicClock {
    private var current: UInt64
    /// Starts at `startNanoseconds`.
    public init(startNanoseconds: UInt64 = 1_000_000_000) { current = startNanoseconds }
    /// Current virtual time.
    public func nowNanoseconds() -> UInt64 { current }
    /// Moves virtual time forward.
    public func advance(seconds: Double) { current += UInt64(seconds * 1_000_000_000) }
}

enum Nanoseconds {
    static let perSecond: UInt64 = 1_000_000_000
    /// How long superseded keys and passthrough stay usable after a transition (dave.md §4, §5).
    static let transitionExpiry: UInt64 = 10 * perSecond
    static let never = UInt64.max

    static func adding(_ base: UInt64, _ delta: UInt64) -> UInt64 {
        let (sum, overflow) = base.addingReportingOverflow(delta)
        return overflow ? UInt64.max : sum
    }
}
