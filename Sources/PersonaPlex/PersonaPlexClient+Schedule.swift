import NIOCore
import Realtime
import Synchronization

/// Draining the outbox on the sender's schedule instead of being woken by it.
///
/// Waking the event loop from `send(audio:)` costs the tick thread an `eventfd` write per page, and on a busy
/// 2-core machine the woken loop often preempts the tick thread right there, so the link's `process` paid for the
/// framing and the socket write too. A caller that sends once per period (the router's 20 ms tick) sets
/// `PersonaPlexConfiguration.sendPeriod`: after a drain that found pages, the loop arms a timer for just after the
/// sender's next batch (newest page stamp + one period + `sendDrainDelay`) and raises `drainArmed`; while it is
/// up, `send(audio:)` only pushes. A timer that finds nothing retries every 0.5 ms for a few ms, then lowers the
/// flag so the next page wakes the loop as before. Every method here runs on `eventLoop`.
extension PersonaPlexClient {
    /// Retries of a drain that found the outbox empty before handing the wake-up back to the sender.
    static let maxMissedDrains = 8
    /// Spacing of those retries.
    static let missedDrainRetry = TimeAmount.microseconds(500)

    /// After a drain that wrote pages: with a `sendPeriod`, arms the next drain for just after the next batch.
    func scheduleNextDrain() {
        eventLoop.assertInEventLoop()
        let period = Nanoseconds.from(seconds: configuration.sendPeriod)
        guard period > 0 else { return }
        missedDrains = 0
        let now = clock.nowNanoseconds()
        let delay = Nanoseconds.from(seconds: configuration.sendDrainDelay)
        var due = Nanoseconds.adding(Nanoseconds.adding(newestDrainedStamp, period), delay)
        // A stamp more than a period old (the sender stamps the audio's origin, not the push): align on now.
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
        missedDrains += 1
        if missedDrains <= Self.maxMissedDrains {
            armDrain(in: Self.missedDrainRetry)
            return
        }
        // The sender paused. Lower the flag, then look once more: a page pushed by a sender that still saw the flag
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
