import Realtime

/// The heartbeat rules as a pure state machine over nanosecond timestamps, so they are tested in virtual time:
/// the first beat after `interval × jitter` (jitter in [0, 1)), then one every interval; a server op 1 is answered at
/// once; a beat due while the previous one is still unacknowledged means the connection is a zombie.
struct HeartbeatSchedule: Sendable {
    enum Action: Equatable {
        case none
        case sendHeartbeat
        /// No ACK since the last beat: close with a non-1000/1001 code and resume.
        case zombie
    }

    let intervalNanos: UInt64
    private(set) var nextBeatAt: UInt64
    private(set) var awaitingAck = false
    private(set) var lastAckAt: UInt64?
    private(set) var lastSentAt: UInt64?

    /// `jitter` is `Double.random(in: 0..<1)` in production; tests pass a fixed value.
    init(helloAt now: UInt64, intervalMillis: Int, jitter: Double) {
        let clampedMillis = UInt64(min(max(intervalMillis, 1), 3_600_000))
        intervalNanos = clampedMillis * 1_000_000
        let fraction = min(max(jitter, 0), 0.999_999)
        nextBeatAt = now + UInt64(Double(intervalNanos) * fraction)
    }

    /// Called when the timer fires at `now` (or any time): what to do. Beats keep an absolute cadence
    /// (`next += interval`) so timer lateness does not drift; after a long stall the cadence restarts from now.
    mutating func due(now: UInt64) -> Action {
        guard now >= nextBeatAt else { return .none }
        if awaitingAck { return .zombie }
        markSent(now: now)
        nextBeatAt = Nanoseconds.adding(nextBeatAt, intervalNanos)
        if nextBeatAt <= now { nextBeatAt = Nanoseconds.adding(now, intervalNanos) }
        return .sendHeartbeat
    }

    /// The server asked for a heartbeat (op 1): send one now; the regular schedule is kept.
    mutating func serverRequested(now: UInt64) {
        markSent(now: now)
    }

    mutating func acknowledged(now: UInt64) {
        awaitingAck = false
        lastAckAt = now
    }

    /// Round-trip of the last acknowledged beat, for logs.
    var latencyNanos: UInt64? {
        guard let sent = lastSentAt, let ack = lastAckAt, ack >= sent else { return nil }
        return ack - sent
    }

    private mutating func markSent(now: UInt64) {
        awaitingAck = true
        lastSentAt = now
    }
}
