import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A source of monotonic time in nanoseconds (never decreases; arbitrary origin). Every timestamp in the router —
/// tick starts, socket reads and writes, key expiries, timeouts — is one of these `UInt64` values, so times taken
/// on the tick thread and on an event loop can be subtracted directly.
///
/// Code that waits or times out takes a clock as a parameter (default `SystemClock.shared`) so tests can drive it
/// with a `ManualClock` instead of sleeping.
public protocol MonotonicClock: AnyObject, Sendable {
    /// Now, in nanoseconds.
    func nowNanoseconds() -> UInt64
}

/// The process's monotonic clock: `CLOCK_MONOTONIC` (vDSO on Linux: no syscall, no allocation, no lock).
public final class SystemClock: MonotonicClock {
    /// The one instance.
    public static let shared = SystemClock()

    private init() {}

    /// Now, in nanoseconds on `CLOCK_MONOTONIC`.
    @inline(__always)
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    @inline(__always)
    public func nowNanoseconds() -> UInt64 { Self.now() }
}

/// A clock that moves only when told to: tests and simulations advance it by hand, from any thread.
public final class ManualClock: MonotonicClock {
    private let current: Atomic<UInt64>

    /// Starts at `startNanoseconds` (one second by default, so "zero" never looks like an unset stamp).
    public init(startNanoseconds: UInt64 = 1_000_000_000) { current = Atomic(startNanoseconds) }

    public func nowNanoseconds() -> UInt64 { current.load(ordering: .acquiring) }

    /// Moves time forward by `nanoseconds`.
    public func advance(nanoseconds: UInt64) { current.wrappingAdd(nanoseconds, ordering: .acquiringAndReleasing) }

    /// Moves time forward by `seconds`.
    public func advance(seconds: Double) { advance(nanoseconds: UInt64(max(0, seconds) * 1e9)) }
}

/// Nanosecond arithmetic that saturates instead of trapping (deadlines far in the future, "never").
public enum Nanoseconds {
    /// One second.
    public static let perSecond: UInt64 = 1_000_000_000
    /// One millisecond.
    public static let perMillisecond: UInt64 = 1_000_000
    /// A deadline that never comes.
    public static let never = UInt64.max

    /// `base + delta`, or `never` on overflow.
    @inline(__always)
    public static func adding(_ base: UInt64, _ delta: UInt64) -> UInt64 {
        let (sum, overflow) = base.addingReportingOverflow(delta)
        return overflow ? never : sum
    }

    /// `later - earlier`, or 0 when `earlier` is not before `later`.
    @inline(__always)
    public static func elapsed(from earlier: UInt64, to later: UInt64) -> UInt64 {
        later > earlier ? later - earlier : 0
    }

    /// Whole nanoseconds in `seconds` (negative → 0, huge → `never`).
    public static func from(seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        let n = seconds * 1e9
        return n >= Double(UInt64.max) ? never : UInt64(n)
    }
}
