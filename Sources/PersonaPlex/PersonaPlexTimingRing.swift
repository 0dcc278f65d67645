import Realtime

/// Send timings, from the event loop (the one producer) to the tick thread (the one consumer), keeping the newest
/// `capacity`. The ring holds twice that, so the producer never writes a slot the consumer may be reading; the
/// consumer skips all but the newest `capacity`. Past twice the capacity undrained, new timings are lost.
final class PersonaPlexTimingRing: Sendable {
    private let capacity: Int
    private let ring: RealtimeRing<PersonaPlexSendTiming>

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        ring = RealtimeRing(capacity: 2 * self.capacity) {
            PersonaPlexSendTiming(requestedAtNanos: 0, writtenAtNanos: 0, bytes: 0)
        }
    }

    /// Event loop: stores `timing`. Returns `true` if an undrained timing was overwritten (or this one lost).
    func record(_ timing: PersonaPlexSendTiming) -> Bool {
        let overwrites = ring.count >= capacity
        return !ring.push({ $0 = timing }) || overwrites
    }

    /// Tick thread: appends the newest `capacity` timings to `out`, oldest first, and empties the ring.
    func drain(into out: inout [PersonaPlexSendTiming]) {
        ring.discard(keepingNewest: capacity)
        ring.drain { out.append($0) }
    }
}
