import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Monotonic clock used for every timestamp in this module (CLOCK_MONOTONIC), in nanoseconds: the same clock as
/// the router's tick stamps, so graph-side and socket-side times can be subtracted.
public enum PersonaPlexClock {
    /// Now, in nanoseconds on the monotonic clock.
    @inline(__always)
    public static func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// One message received from the server after the handshake, as handed to `onMessage` or `drainReceived(into:)`:
/// the payload is copied into a fresh array (one allocation per message; `drainReceived(_:)` avoids it).
public struct PersonaPlexMessage: Sendable {
    /// The message kinds PersonaPlex sends after `0x00`.
    public enum Kind: UInt8, Sendable {
        /// `0x01`: exactly one Ogg page (24 kHz mono Opus).
        case audio = 1
        /// `0x02`: one UTF-8 text piece (word-initial pieces start with a space).
        case text = 2
    }

    /// What the payload is.
    public var kind: Kind
    /// The payload without the kind byte: an Ogg page or UTF-8 text.
    public var payload: [UInt8]
    /// When the frame was decoded on the event loop, right after the socket read (`PersonaPlexClock`).
    public var receivedAtNanos: UInt64

    public init(kind: Kind, payload: [UInt8], receivedAtNanos: UInt64) {
        self.kind = kind
        self.payload = payload
        self.receivedAtNanos = receivedAtNanos
    }

    /// The text of a `.text` message (invalid UTF-8 repaired), `nil` for audio.
    public var text: String? { kind == .text ? String(decoding: payload, as: UTF8.self) : nil }
}

/// One `send(audio:)` call: when it was requested and when NIO reported the bytes written to the socket.
public struct PersonaPlexSendTiming: Sendable, Equatable {
    /// `send(audio:)` entry time (`PersonaPlexClock`).
    public var requestedAtNanos: UInt64
    /// Write-promise completion time: the frame reached the socket (after TLS, if any).
    public var writtenAtNanos: UInt64
    /// Payload bytes (without the kind byte).
    public var bytes: Int

    /// Time the message spent inside the client before reaching the socket.
    public var queueDelayNanos: UInt64 { writtenAtNanos &- requestedAtNanos }
}

/// Counters of a session; all monotonic.
public struct PersonaPlexCounters: Sendable, Equatable {
    /// `0x01` messages received.
    public var audioReceived = 0
    /// `0x02` messages received.
    public var textReceived = 0
    /// Audio messages dropped because the inbox was full.
    public var audioDropped = 0
    /// Text messages dropped because the inbox was full.
    public var textDropped = 0
    /// Messages of other kinds (or empty/text frames), ignored.
    public var ignoredMessages = 0
    /// Handshakes longer than the single `0x00` byte (the Rust moshi backend adds 8 zero bytes); accepted.
    public var longHandshakes = 0
    /// Extra `0x00` messages after the first, ignored.
    public var repeatedHandshakes = 0
    /// Audio messages written to the socket.
    public var audioSent = 0
    /// Payload bytes written to the socket.
    public var bytesSent = 0
    /// `send(audio:)` calls refused because the session was not live.
    public var sendsWhileNotLive = 0
    /// `send(audio:)` calls dropped because `maxPendingSendBytes` was reached.
    public var sendsDroppedBacklog = 0
    /// Writes that failed (the socket closed underneath).
    public var sendFailures = 0
    /// Send timings lost because the timing ring was full (not drained in time).
    public var sendTimingsOverwritten = 0

    public init() {}
}

/// What `send(audio:)` did with the bytes.
public enum PersonaPlexSendResult: Sendable, Equatable {
    /// Queued on the event loop for writing.
    case queued
    /// Refused: the session is not live (before `0x00` or after the end). Nothing is sent before `0x00`.
    case notLive
    /// Dropped: too many bytes are waiting to be written (network stalled).
    case droppedBacklog
}

/// Received messages and counters shared between the event loop (producer) and the graph (consumer).
/// Messages travel through a lock-free ring with preallocated payload slots (no allocation, no lock per message
/// or per drain); the counters sit behind a small lock touched by the event loop and by occasional snapshots.
final class PersonaPlexInbox: @unchecked Sendable {
    private let lock = PersonaPlexLock()
    private let ring: PersonaPlexPacketRing
    private var counters = PersonaPlexCounters()

    /// `slotBytes` covers the server's 80 ms pages (~300-350 B) with room to spare; larger ones still pass.
    init(capacity: Int, slotBytes: Int = 2048) {
        ring = PersonaPlexPacketRing(capacity: capacity, slotBytes: slotBytes)
    }

    /// Event loop: stores one message (copying `payload`), or counts it as dropped if full.
    func append(kind: PersonaPlexMessage.Kind, payload: UnsafeRawBufferPointer, receivedAt: UInt64) {
        let stored = ring.push(payload, tag: kind.rawValue, stamp: receivedAt)
        lock.withLock {
            switch kind {
            case .audio:
                counters.audioReceived += 1
                if !stored { counters.audioDropped += 1 }
            case .text:
                counters.textReceived += 1
                if !stored { counters.textDropped += 1 }
            }
        }
    }

    /// Event loop: `append(kind:payload:receivedAt:)` for a whole message.
    func append(_ message: PersonaPlexMessage) {
        message.payload.withUnsafeBytes { append(kind: message.kind, payload: $0, receivedAt: message.receivedAtNanos) }
    }

    /// Visits every pending message in arrival order without copying; the bytes are valid only during the call.
    @discardableResult
    func drain(_ body: (PersonaPlexMessage.Kind, UnsafeRawBufferPointer, UInt64) throws -> Void) rethrows -> Int {
        try ring.drain { bytes, tag, stamp in try body(PersonaPlexMessage.Kind(rawValue: tag) ?? .audio, bytes, stamp) }
    }

    /// Moves all pending messages into `out` as arrays (`out` is emptied first, keeping its capacity).
    func drain(into out: inout [PersonaPlexMessage]) {
        out.removeAll(keepingCapacity: true)
        drain { kind, bytes, stamp in out.append(PersonaPlexMessage(kind: kind, payload: Array(bytes), receivedAtNanos: stamp)) }
    }

    func update(_ body: (inout PersonaPlexCounters) -> Void) {
        lock.withLock { body(&counters) }
    }

    var snapshot: PersonaPlexCounters { lock.withLock { counters } }
}

/// Fixed-capacity lock-free ring of send timings, written on the event loop, drained by the caller; keeps the newest
/// `capacity` timings. It stores up to twice that, so the producer never writes a slot the consumer may be reading;
/// the consumer skips all but the newest `capacity`. Past twice the capacity undrained, new timings are lost.
final class PersonaPlexTimingRing: @unchecked Sendable {
    private let capacity: Int
    private let ring: PersonaPlexValueRing<PersonaPlexSendTiming>

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        ring = PersonaPlexValueRing(capacity: 2 * self.capacity)
    }

    /// Returns `true` if an undrained timing was overwritten (or this one lost).
    func record(_ timing: PersonaPlexSendTiming) -> Bool {
        let overwrites = ring.count >= capacity
        return !ring.push(timing) || overwrites
    }

    func drain(into out: inout [PersonaPlexSendTiming]) {
        ring.drain(keepingNewest: capacity) { out.append($0) }
    }
}

/// Percentile helper for latency reports.
public enum PersonaPlexLatency {
    /// The `fraction` percentile (0...1, nearest rank) of `values`, or `nil` if empty.
    public static func percentile(_ values: [UInt64], _ fraction: Double) -> UInt64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
