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

/// One message received from the server after the handshake. The payload is copied into a fresh array:
/// one allocation per message (about 12.5 audio pages and at most 12.5 text pieces per second).
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
    /// Send timings overwritten before they were drained.
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
/// The lock is held only to append one message or to swap the pending array with the caller's.
final class PersonaPlexInbox: @unchecked Sendable {
    private let lock = PersonaPlexLock()
    private var pending: [PersonaPlexMessage]
    private let capacity: Int
    private var counters = PersonaPlexCounters()

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        pending = []
        pending.reserveCapacity(self.capacity)
    }

    /// Event loop: stores one message, or counts it as dropped if full.
    func append(_ message: PersonaPlexMessage) {
        lock.withLock {
            let full = pending.count >= capacity
            switch message.kind {
            case .audio:
                counters.audioReceived += 1
                if full { counters.audioDropped += 1 }
            case .text:
                counters.textReceived += 1
                if full { counters.textDropped += 1 }
            }
            if !full { pending.append(message) }
        }
    }

    /// Moves all pending messages into `out` by swapping buffers (`out` is emptied first, keeping its capacity).
    func drain(into out: inout [PersonaPlexMessage]) {
        out.removeAll(keepingCapacity: true)
        lock.withLock { swap(&out, &pending) }
    }

    func update(_ body: (inout PersonaPlexCounters) -> Void) {
        lock.withLock { body(&counters) }
    }

    var snapshot: PersonaPlexCounters { lock.withLock { counters } }
}

/// Fixed-capacity ring of send timings, written on the event loop, drained by the caller.
final class PersonaPlexTimingRing: @unchecked Sendable {
    private let lock = PersonaPlexLock()
    private var storage: [PersonaPlexSendTiming]
    private var start = 0
    private var count = 0
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage = Array(repeating: PersonaPlexSendTiming(requestedAtNanos: 0, writtenAtNanos: 0, bytes: 0),
                        count: self.capacity)
    }

    /// Returns `true` if an undrained timing was overwritten.
    func record(_ timing: PersonaPlexSendTiming) -> Bool {
        lock.withLock {
            storage[(start + count) % capacity] = timing
            if count == capacity {
                start = (start + 1) % capacity
                return true
            }
            count += 1
            return false
        }
    }

    func drain(into out: inout [PersonaPlexSendTiming]) {
        lock.withLock {
            for index in 0..<count { out.append(storage[(start + index) % capacity]) }
            start = 0
            count = 0
        }
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
