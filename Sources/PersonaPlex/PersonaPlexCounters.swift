import Synchronization

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
    /// Drains armed for a periodic sender (`sendPeriod`) that found no page: the sender was late or paused.
    public var emptyDrains = 0
    /// Times the sender woke the event loop to write its pages (`send(audio:)`, `wakeIfQueued()`): at most one per
    /// batch; none for a batch an armed drain (`sendPeriod`) or an already queued drain takes.
    public var wakeUps = 0

    public init() {}
}

/// The live counters behind `PersonaPlexCounters`: one relaxed atomic each, so the event loop and the tick thread
/// count without a lock and a snapshot can be taken from any thread (each field exact, the set not one instant).
final class PersonaPlexCounterCells: Sendable {
    let audioReceived = Atomic<Int>(0)
    let textReceived = Atomic<Int>(0)
    let audioDropped = Atomic<Int>(0)
    let textDropped = Atomic<Int>(0)
    let ignoredMessages = Atomic<Int>(0)
    let longHandshakes = Atomic<Int>(0)
    let repeatedHandshakes = Atomic<Int>(0)
    let audioSent = Atomic<Int>(0)
    let bytesSent = Atomic<Int>(0)
    /// Written by the producer of sends (the tick thread).
    let sendsWhileNotLive = Atomic<Int>(0)
    /// Written by the producer of sends (the tick thread).
    let sendsDroppedBacklog = Atomic<Int>(0)
    let sendFailures = Atomic<Int>(0)
    let sendTimingsOverwritten = Atomic<Int>(0)
    let emptyDrains = Atomic<Int>(0)
    /// Written by the producer of sends (the tick thread).
    let wakeUps = Atomic<Int>(0)

    init() {}

    /// Adds `amount` to `cell` (relaxed: the counters order nothing).
    @inline(__always)
    static func bump(_ cell: borrowing Atomic<Int>, by amount: Int = 1) {
        cell.wrappingAdd(amount, ordering: .relaxed)
    }

    /// The counters now.
    var snapshot: PersonaPlexCounters {
        var c = PersonaPlexCounters()
        c.audioReceived = audioReceived.load(ordering: .relaxed)
        c.textReceived = textReceived.load(ordering: .relaxed)
        c.audioDropped = audioDropped.load(ordering: .relaxed)
        c.textDropped = textDropped.load(ordering: .relaxed)
        c.ignoredMessages = ignoredMessages.load(ordering: .relaxed)
        c.longHandshakes = longHandshakes.load(ordering: .relaxed)
        c.repeatedHandshakes = repeatedHandshakes.load(ordering: .relaxed)
        c.audioSent = audioSent.load(ordering: .relaxed)
        c.bytesSent = bytesSent.load(ordering: .relaxed)
        c.sendsWhileNotLive = sendsWhileNotLive.load(ordering: .relaxed)
        c.sendsDroppedBacklog = sendsDroppedBacklog.load(ordering: .relaxed)
        c.sendFailures = sendFailures.load(ordering: .relaxed)
        c.sendTimingsOverwritten = sendTimingsOverwritten.load(ordering: .relaxed)
        c.emptyDrains = emptyDrains.load(ordering: .relaxed)
        c.wakeUps = wakeUps.load(ordering: .relaxed)
        return c
    }
}
