import DAVE
import Realtime

/// Gives `Sources/DAVE` (which declares its own clock protocol) the router's one monotonic clock, so key expiries
/// and passthrough windows follow the same time as everything else (and a `ManualClock` in tests).
final class DAVEClockAdapter: DAVE.MonotonicClock {
    let clock: any Realtime.MonotonicClock
    init(_ clock: any Realtime.MonotonicClock) { self.clock = clock }
    func nowNanoseconds() -> UInt64 { clock.nowNanoseconds() }
}
