import Synchronization

/// Counts work the runner has accepted but not finished (inputs not yet applied, effects still running, messages
/// not yet sent), so a caller can wait until the bot is quiet. Tests use it to assert what was *not* sent.
final class WorkTracker: Sendable {
    private let outstanding = Mutex(0)

    func begin() { outstanding.withLock { $0 += 1 } }
    func end() { outstanding.withLock { $0 -= 1 } }
    var isIdle: Bool { outstanding.withLock { $0 == 0 } }

    /// Returns once nothing is outstanding (checked every 5 ms; work in progress keeps the count above zero
    /// because every piece of work begins its follow-ups before it ends).
    func waitUntilIdle() async {
        while !isIdle {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
