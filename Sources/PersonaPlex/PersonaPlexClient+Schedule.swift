import NIOCore
import Realtime
import Synchronization

/// Draining the outbox on the sender's schedule instead of being woken by it.
///
/// Waking the event loop from `send(audio:)` costs the tick thread an `eventfd` write per page, and on a busy
/// 2-core machine the woken loop often preempts the tick thread right there, so the link's `process` paid for the
/// framing and the socket write too. A caller that sends once per period (the router's 20 ms tick) sets
/// `PersonaPlexConfiguration.sendPeriod`: after a drain that found pages, the loop arms a timer for just after the
/// sender's next batch and raises `drainArmed`; while it is up, `send(audio:)` only pushes. The next batch is
/// expected one period after the *earliest* recent batch phase (`drainAnchor`): stamps come late when the sender's
/// thread woke late, never early, so the earliest one is the sender's grid; the anchor creeps later by 50 µs per
/// batch so a shifted grid is followed. A timer that finds nothing (the sender is late, or paused) lowers the flag at
/// once, so that late batch wakes the loop as before instead of waiting for a retry: a late tick costs what every
/// tick used to, an on-time tick costs the tick thread nothing. Every method here runs on `eventLoop`.
extension PersonaPlexClient {
    /// How much later the expected phase may move per batch (follows a sender whose grid shifted).
    static let anchorCreep: UInt64 = 50_000

    /// After a drain that wrote pages: with a `sendPeriod`, arms the next drain for just after the next batch.
    func scheduleNextDrain() {
        eventLoop.assertInEventLoop()
        let period = Nanoseconds.from(seconds: configuration.sendPeriod)
        guard period > 0 else { return }
        let now = clock.nowNanoseconds()
        let delay = Nanoseconds.from(seconds: configuration.sendDrainDelay)
        let observed = Nanoseconds.adding(newestDrainedStamp, period)
        let followed = Nanoseconds.adding(Nanoseconds.adding(drainAnchor, period), Self.anchorCreep)
        // No anchor yet, or one from before a pause (already past): start from this batch.
        drainAnchor = drainAnchor == 0 || followed <= now ? observed : min(observed, followed)
        var due = Nanoseconds.adding(drainAnchor, delay)
        // An anchor more than a period old (a stale stamp, or the sender fell behind): align on now.
        if due <= now { due = Nanoseconds.adding(now, period) }
        armDrain(in: .nanoseconds(Int64(clamping: due - now)))
    }

    private func armDrain(in delay: TimeAmount) {
        drainCallback?.cancel()
        drainCallback = try? eventLoop.scheduleCallback(in: delay, handler: PersonaPlexDrainCallback(client: self))
        drainArmed.store(drainCallback != nil, ordering: .sequentiallyConsistent)
    }

    /// The armed drain: writes what the sender pushed since, or retries, or hands the wake-up back.
    func timedDrain() {
        eventLoop.assertInEventLoop()
        drainCallback = nil
        guard current == .live else {
            drainArmed.store(false, ordering: .sequentiallyConsistent)
            return
        }
        if writeOutbox() > 0 {
            scheduleNextDrain()
            return
        }
        PersonaPlexCounterCells.bump(counterCells.emptyDrains)
        // The sender is late. Lower the flag, then look once more: a page pushed by a sender that still saw the flag
        // up would otherwise wait (the fences pair with the one in `send(audio:)`).
        drainArmed.store(false, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if outbox.count > 0, writeOutbox() > 0 { scheduleNextDrain() }
    }

    /// Cancels the armed drain (the session left `live`).
    func disarmDrain() {
        eventLoop.assertInEventLoop()
        drainCallback?.cancel()
        drainCallback = nil
        drainArmed.store(false, ordering: .sequentiallyConsistent)
    }
}

/// The armed drain's callback (NIO's allocation-free scheduled callback on its own event loops).
struct PersonaPlexDrainCallback: NIOScheduledCallbackHandler, Sendable {
    let client: PersonaPlexClient

    func handleScheduledCallback(eventLoop: some EventLoop) { client.timedDrain() }
}
