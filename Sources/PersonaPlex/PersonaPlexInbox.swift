import Realtime

/// Received messages, from the event loop (the one producer) to the tick thread (the one consumer), through a
/// `RealtimeRing` of preallocated byte slots: no allocation, no lock per message or per drain. When the ring is
/// full the newest message is dropped (the oldest, e.g. the Ogg header pages, must survive) and counted per kind.
final class PersonaPlexInbox: Sendable {
    private let ring: RealtimeRing<ByteSlot>
    let counters: PersonaPlexCounterCells

    /// `slotBytes` covers the server's 80 ms pages (~300-350 B) with room to spare; a larger one grows its slot once
    /// (on the event loop).
    init(capacity: Int, slotBytes: Int = 2048, counters: PersonaPlexCounterCells = PersonaPlexCounterCells()) {
        ring = RealtimeRing(capacity: capacity, slotBytes: slotBytes)
        self.counters = counters
    }

    /// Event loop: stores one message (copying `payload`), or counts it as dropped if full.
    func append(kind: PersonaPlexMessage.Kind, payload: UnsafeRawBufferPointer, receivedAt: UInt64) {
        let stored = ring.push(bytes: payload, tag: kind.rawValue, stamp: receivedAt)
        switch kind {
        case .audio:
            PersonaPlexCounterCells.bump(counters.audioReceived)
            if !stored { PersonaPlexCounterCells.bump(counters.audioDropped) }
        case .text:
            PersonaPlexCounterCells.bump(counters.textReceived)
            if !stored { PersonaPlexCounterCells.bump(counters.textDropped) }
        }
    }

    /// Event loop: `append(kind:payload:receivedAt:)` for a whole message.
    func append(_ message: PersonaPlexMessage) {
        message.payload.withUnsafeBytes { append(kind: message.kind, payload: $0, receivedAt: message.receivedAtNanos) }
    }

    /// Tick thread: visits every pending message in arrival order without copying; the bytes are valid only during
    /// the call.
    @discardableResult
    func drain(_ body: (PersonaPlexMessage.Kind, UnsafeRawBufferPointer, UInt64) throws -> Void) rethrows -> Int {
        try ring.drain { slot in
            let kind = PersonaPlexMessage.Kind(rawValue: slot.tag) ?? .audio
            try slot.bytes.withUnsafeBytes { try body(kind, $0, slot.stamp) }
        }
    }

    /// Tick thread: moves all pending messages into `out` as arrays (`out` is emptied first, keeping its capacity).
    func drain(into out: inout [PersonaPlexMessage]) {
        out.removeAll(keepingCapacity: true)
        drain { kind, bytes, stamp in
            out.append(PersonaPlexMessage(kind: kind, payload: Array(bytes), receivedAtNanos: stamp))
        }
    }

    /// The counters now (any thread).
    var snapshot: PersonaPlexCounters { counters.snapshot }
}
