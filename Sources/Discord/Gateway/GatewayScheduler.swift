import Realtime
import Synchronization

/// Time for the gateway: a `MonotonicClock` to read and a way to wait for a deadline. Production waits with
/// `Task.sleep`; tests use `ManualScheduler` and move time by hand.
public protocol GatewayScheduler: Sendable {
    var clock: any MonotonicClock { get }
    /// Returns at or after `deadline` (nanoseconds on `clock`); throws `CancellationError` when cancelled.
    func sleep(until deadline: UInt64) async throws
}

extension GatewayScheduler {
    func sleep(nanoseconds: UInt64) async throws {
        try await sleep(until: Nanoseconds.adding(clock.nowNanoseconds(), nanoseconds))
    }
}

/// Real time: `SystemClock` and `Task.sleep`.
public struct SystemScheduler: GatewayScheduler {
    public init() {}
    public var clock: any MonotonicClock { SystemClock.shared }

    public func sleep(until deadline: UInt64) async throws {
        let now = SystemClock.now()
        guard deadline > now else { return try Task.checkCancellation() }
        try await Task.sleep(nanoseconds: deadline - now)
    }
}

/// Runs the heartbeat cadence: sleeps until the schedule's next beat and reports what is due.
/// `act` returns `false` to stop (zombie handled, connection closing).
enum HeartbeatTimer {
    static func run(
        schedule: SharedHeartbeat, scheduler: any GatewayScheduler,
        act: @Sendable (HeartbeatSchedule.Action) async -> Bool
    ) async {
        while !Task.isCancelled {
            let deadline = schedule.nextBeatAt
            do {
                try await scheduler.sleep(until: deadline)
            } catch {
                return
            }
            let action = schedule.due(now: scheduler.clock.nowNanoseconds())
            if action == .none { continue }
            if await !act(action) { return }
        }
    }
}

/// The heartbeat state shared by the timer task and the message loop (ACKs, server op 1).
final class SharedHeartbeat: Sendable {
    private let state: Mutex<HeartbeatSchedule>

    init(_ schedule: HeartbeatSchedule) { state = Mutex(schedule) }

    var nextBeatAt: UInt64 { state.withLock { $0.nextBeatAt } }
    func due(now: UInt64) -> HeartbeatSchedule.Action { state.withLock { $0.due(now: now) } }
    func serverRequested(now: UInt64) { state.withLock { $0.serverRequested(now: now) } }
    func acknowledged(now: UInt64) { state.withLock { $0.acknowledged(now: now) } }
    var latencyNanos: UInt64? { state.withLock { $0.latencyNanos } }
}
