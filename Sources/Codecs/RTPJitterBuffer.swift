/// One speaker's adaptive jitter buffer for 20 ms RTP audio packets (Discord voice: Opus, 48 kHz RTP clock).
///
/// Packets go in as they arrive (any order, duplicates, gaps); once per 20 ms tick `next(nowNanoseconds:)` says what
/// to play: a packet, a concealed frame (loss; with the following packet when its in-band FEC can rebuild it), or
/// silence (between talk spurts). It works on the tick thread only and never allocates after `init`: packets are
/// copied into preallocated slots indexed by sequence number.
///
/// Timing follows the RTP timestamps, not the arrival times, so a sender's pauses stay pauses and nothing drifts:
/// - A talk spurt starts playing `targetDelayFrames` after its first packet arrives. The target adapts between spurts
///   to the measured interarrival jitter (RFC 3550 §6.4.1 estimator): `ceil(3 × jitter / 20 ms) + 1` frames, bounded.
/// - Inside a spurt, a timestamp that jumps ahead of the frame due (the sender paused without silence frames) plays
///   as silence until the timestamp is due; a jump of more than `resyncFrames` is followed at once (resync), as is a
///   sequence number a whole buffer away from the one due.
/// - A missing packet with later ones buffered is lost: one concealed frame, counted. An empty buffer mid-spurt holds
///   the timeline (the frame is concealed, the delay grows by one frame) until `idleAfterFrames` empty ticks end the
///   spurt. When the buffer holds more than `target + 2` frames, the oldest is skipped to bring the delay back.
public final class RTPJitterBuffer {
    /// Bounds and defaults.
    public struct Configuration: Sendable, Equatable {
        /// Delay before the first spurt plays, in 20 ms frames (default 3 = 60 ms).
        public var initialDelayFrames = 3
        /// Smallest adaptive delay, in frames.
        public var minDelayFrames = 1
        /// Largest adaptive delay, in frames (default 10 = 200 ms).
        public var maxDelayFrames = 10
        /// Packets held at once (a power of two ≥ 2 × maxDelayFrames).
        public var capacity = 64
        /// Largest payload accepted (bigger packets are counted as malformed and dropped).
        public var maxPayloadBytes = 1_500
        /// RTP timestamp units per frame (960 = 20 ms at 48 kHz).
        public var timestampsPerFrame: UInt32 = 960
        /// RTP clock rate in Hz.
        public var clockRate = 48_000
        /// Empty ticks in a row that end a talk spurt.
        public var idleAfterFrames = 3
        /// A timestamp further than this many frames from the one due restarts the spurt.
        public var resyncFrames = 50

        public init() {}
    }

    /// What to play this tick.
    public enum Playout: Equatable, Sendable {
        /// Nothing is due (before the first packet, between spurts, or in a sender's pause).
        case silence
        /// A packet: read it with `withPayload`.
        case packet
        /// A frame is missing: conceal it (packet-loss concealment).
        case conceal
        /// A frame is missing but the next packet is here: `withPayload` gives that packet, whose in-band FEC
        /// (if any) rebuilds the missing frame.
        case concealWithNext
    }

    /// Counters since creation (monotonic except `depth`, `jitterNanoseconds` and `targetDelayFrames`).
    public struct Counters: Sendable, Equatable {
        /// Packets accepted into the buffer.
        public var received = 0
        /// Packets played.
        public var played = 0
        /// Packets that arrived after their frame was played or concealed.
        public var late = 0
        /// Frames missing when due while later packets had arrived.
        public var lost = 0
        /// Frames concealed (losses and mid-spurt underruns).
        public var concealed = 0
        /// Packets that arrived after a packet with a higher sequence number (and still in time).
        public var reordered = 0
        /// Copies of a packet already held or played.
        public var duplicates = 0
        /// Empty or oversized payloads.
        public var malformed = 0
        /// Frames skipped to bring the delay back after a burst.
        public var skipped = 0
        /// Spurts restarted on a sequence or timestamp jump.
        public var resyncs = 0
        /// Talk spurts started.
        public var talkSpurts = 0
        /// Packets waiting now.
        public var depth = 0
        /// Current interarrival jitter estimate.
        public var jitterNanoseconds: UInt64 = 0
        /// Current playout delay target.
        public var targetDelayFrames = 0
    }

    private struct Slot {
        var occupied = false
        var sequence: Int64 = 0
        var timestamp: Int64 = 0
        var bytes: [UInt8]
    }

    private enum State {
        case idle
        case buffering(startAt: UInt64)
        case playing
    }

    public let configuration: Configuration
    public private(set) var counters = Counters()
    private var slots: [Slot]
    private let mask: Int
    private var state = State.idle
    /// Extended (unwrapped) sequence and timestamp references.
    private var highestSequence: Int64 = -1
    private var lastTimestamp: Int64 = 0
    private var hasReference = false
    private var nextSequence: Int64 = 0
    /// The first sequence number of the current spurt may not go below this (the previous spurt's end).
    private var spurtFloor: Int64 = .min
    private var dueTimestamp: Int64 = 0
    /// Bit i set: sequence `nextSequence - 1 - i` was played (tells duplicates from late packets).
    private var playedBits: UInt64 = 0
    private var emptyTicks = 0
    private var payloadSlot = -1
    /// Jitter estimator state (RFC 3550), in nanoseconds scaled by 16 for integer updates.
    private var jitterScaled: Int64 = 0
    private var previousArrival: UInt64 = 0
    private var previousArrivalTimestamp: Int64 = 0
    private var hasPreviousArrival = false

    /// - Precondition: `capacity` is a power of two and at least `2 × maxDelayFrames`.
    public init(configuration: Configuration = Configuration()) {
        precondition(
            configuration.capacity > 0 && configuration.capacity & (configuration.capacity - 1) == 0,
            "jitter buffer capacity must be a power of two")
        precondition(configuration.capacity >= 2 * configuration.maxDelayFrames, "capacity below 2 × max delay")
        self.configuration = configuration
        mask = configuration.capacity - 1
        var emptySlot = Slot(bytes: [])
        emptySlot.bytes.reserveCapacity(configuration.maxPayloadBytes)
        slots = Array(repeating: emptySlot, count: configuration.capacity)
        // Give each slot storage of its own (the repeated value shares one buffer until written).
        for i in slots.indices {
            slots[i].bytes = []
            slots[i].bytes.reserveCapacity(configuration.maxPayloadBytes)
        }
        counters.targetDelayFrames = configuration.initialDelayFrames
    }

    private var frameNanoseconds: UInt64 {
        UInt64(configuration.timestampsPerFrame) * 1_000_000_000 / UInt64(configuration.clockRate)
    }

    // MARK: - Arrival

    /// Adds one packet (RTP sequence number and timestamp as on the wire, arrival on the monotonic clock).
    public func insert(sequence: UInt16, timestamp: UInt32, arrivalNanoseconds: UInt64, payload: UnsafeRawBufferPointer)
    {
        guard payload.count > 0, payload.count <= configuration.maxPayloadBytes else {
            counters.malformed += 1
            return
        }
        let (seq, ts) = unwrap(sequence: sequence, timestamp: timestamp)
        updateJitter(arrival: arrivalNanoseconds, timestamp: ts)

        let capacity = Int64(configuration.capacity)
        switch state {
        case .idle:
            // Packets from before the last spurt ended are stale, not the start of a new one.
            if counters.talkSpurts > 0, seq < nextSequence, nextSequence - seq < capacity { return countStale(seq) }
            startSpurt(sequence: seq, timestamp: ts, arrival: arrivalNanoseconds)
        case .buffering:
            if seq < nextSequence {
                if seq >= spurtFloor, nextSequence - seq < capacity / 2 {
                    // Arrived before playout began: the spurt starts earlier than its first packet said.
                    playedBits >>= UInt64(nextSequence - seq)
                    nextSequence = seq
                    dueTimestamp = ts
                } else if nextSequence - seq < capacity {
                    return countStale(seq)
                } else {
                    resync(seq, ts, arrivalNanoseconds)
                }
            }
        case .playing:
            if seq < nextSequence {
                // Far behind: the sender restarted its sequence numbers.
                guard nextSequence - seq >= capacity else { return countStale(seq) }
                resync(seq, ts, arrivalNanoseconds)
            } else if seq - nextSequence >= capacity {
                // Far ahead: the sender jumped its sequence numbers. (Timestamp jumps are followed at playout.)
                resync(seq, ts, arrivalNanoseconds)
            }
        }
        store(sequence: seq, timestamp: ts, payload: payload)
    }

    /// A packet whose frame is already past: a copy of one played, or late.
    private func countStale(_ sequence: Int64) {
        let age = nextSequence - 1 - sequence
        if age >= 0, age < 64, playedBits & (1 << UInt64(age)) != 0 {
            counters.duplicates += 1
        } else {
            counters.late += 1
        }
    }

    private func unwrap(sequence: UInt16, timestamp: UInt32) -> (Int64, Int64) {
        guard hasReference else {
            hasReference = true
            highestSequence = Int64(sequence)
            lastTimestamp = Int64(timestamp)
            return (Int64(sequence), Int64(timestamp))
        }
        let seqDelta = Int64(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: highestSequence)))
        let tsDelta = Int64(Int32(bitPattern: timestamp &- UInt32(truncatingIfNeeded: lastTimestamp)))
        let seq = highestSequence + seqDelta
        let ts = lastTimestamp + tsDelta
        if seq > highestSequence {
            highestSequence = seq
            lastTimestamp = ts
        }
        return (seq, ts)
    }

    private func store(sequence: Int64, timestamp: Int64, payload: UnsafeRawBufferPointer) {
        let i = Int(sequence & Int64(mask))
        if slots[i].occupied {
            if slots[i].sequence == sequence {
                counters.duplicates += 1
                return
            }
            // A packet a whole buffer ahead (cannot happen after the range checks above; kept safe anyway).
            counters.skipped += 1
            counters.depth -= 1
        }
        if sequence < highestSequence { counters.reordered += 1 }
        slots[i].occupied = true
        slots[i].sequence = sequence
        slots[i].timestamp = timestamp
        slots[i].bytes.removeAll(keepingCapacity: true)
        slots[i].bytes.append(contentsOf: payload)
        counters.received += 1
        counters.depth += 1
    }

    private func startSpurt(sequence: Int64, timestamp: Int64, arrival: UInt64) {
        counters.talkSpurts += 1
        let target = counters.talkSpurts == 1 ? configuration.initialDelayFrames : adaptiveTarget()
        counters.targetDelayFrames = target
        state = .buffering(startAt: arrival &+ UInt64(target) &* frameNanoseconds)
        spurtFloor = counters.talkSpurts == 1 ? .min : nextSequence
        let shift = sequence - nextSequence
        playedBits = counters.talkSpurts > 1 && shift > 0 && shift < 64 ? playedBits << UInt64(shift) : 0
        nextSequence = sequence
        dueTimestamp = timestamp
        emptyTicks = 0
    }

    private func resync(_ sequence: Int64, _ timestamp: Int64, _ arrival: UInt64) {
        counters.resyncs += 1
        clearSlots()
        highestSequence = sequence
        lastTimestamp = timestamp
        hasPreviousArrival = false
        playedBits = 0
        nextSequence = sequence
        startSpurt(sequence: sequence, timestamp: timestamp, arrival: arrival)
    }

    private func clearSlots() {
        for i in slots.indices { slots[i].occupied = false }
        counters.depth = 0
    }

    private func updateJitter(arrival: UInt64, timestamp: Int64) {
        defer {
            previousArrival = arrival
            previousArrivalTimestamp = timestamp
            hasPreviousArrival = true
        }
        guard hasPreviousArrival else { return }
        let tsDelta = timestamp - previousArrivalTimestamp
        // Across a spurt boundary the timestamps say nothing about network jitter.
        guard abs(tsDelta) <= Int64(configuration.resyncFrames) * Int64(configuration.timestampsPerFrame) else {
            return
        }
        let arrivalDelta = Int64(bitPattern: arrival &- previousArrival)
        let expected = tsDelta * 1_000_000_000 / Int64(configuration.clockRate)
        let d = abs(arrivalDelta - expected)
        jitterScaled += d - (jitterScaled + 8) / 16
        counters.jitterNanoseconds = UInt64(max(0, jitterScaled / 16))
    }

    private func adaptiveTarget() -> Int {
        let frame = frameNanoseconds
        let wanted = (3 * counters.jitterNanoseconds + frame - 1) / frame + 1
        return min(configuration.maxDelayFrames, max(configuration.minDelayFrames, Int(min(wanted, 1_000))))
    }

    // MARK: - Playout

    /// What to play for the tick starting at `nowNanoseconds` (call once per 20 ms frame).
    public func next(nowNanoseconds: UInt64) -> Playout {
        payloadSlot = -1
        switch state {
        case .idle:
            return .silence
        case .buffering(let startAt):
            guard nowNanoseconds >= startAt else { return .silence }
            state = .playing
        case .playing:
            break
        }
        trimIfDeep()
        let frame = Int64(configuration.timestampsPerFrame)
        let i = Int(nextSequence & Int64(mask))
        if slots[i].occupied && slots[i].sequence == nextSequence {
            emptyTicks = 0
            let ahead = slots[i].timestamp - dueTimestamp
            if ahead > Int64(configuration.resyncFrames) * frame {
                // A jump no pause explains (the sender restarted its clock): follow the new timestamps.
                counters.resyncs += 1
                dueTimestamp = slots[i].timestamp
            } else if ahead >= frame / 2 {
                // The sender paused without silence frames: the gap plays as silence, on the timestamps' clock.
                dueTimestamp += frame
                return .silence
            }
            consume(slot: i, played: true)
            dueTimestamp = slots[i].timestamp + frame
            payloadSlot = i
            counters.played += 1
            return .packet
        }
        if counters.depth > 0 {
            // Later packets are here, this one is not: lost.
            emptyTicks = 0
            counters.lost += 1
            counters.concealed += 1
            advance(played: false)
            dueTimestamp += frame
            let n = Int(nextSequence & Int64(mask))
            if slots[n].occupied && slots[n].sequence == nextSequence {
                payloadSlot = n
                return .concealWithNext
            }
            return .conceal
        }
        emptyTicks += 1
        if emptyTicks > configuration.idleAfterFrames {
            state = .idle
            return .silence
        }
        // Nothing buffered: the packet may only be late. Hold the timeline (the delay grows by one frame).
        counters.concealed += 1
        return .conceal
    }

    /// The payload of this tick's `.packet` (or the next packet for `.concealWithNext`); empty otherwise. The bytes
    /// are valid only during the call.
    public func withPayload<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard payloadSlot >= 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try slots[payloadSlot].bytes.withUnsafeBytes(body)
    }

    /// Forgets everything (the speaker left); counters are kept.
    public func reset() {
        clearSlots()
        state = .idle
        hasReference = false
        hasPreviousArrival = false
        payloadSlot = -1
    }

    private func consume(slot i: Int, played: Bool) {
        slots[i].occupied = false
        counters.depth -= 1
        advance(played: played)
    }

    private func advance(played: Bool) {
        playedBits = (playedBits << 1) | (played ? 1 : 0)
        nextSequence += 1
    }

    private func trimIfDeep() {
        let limit = counters.targetDelayFrames + 2
        while counters.depth > limit {
            let i = Int(nextSequence & Int64(mask))
            if slots[i].occupied && slots[i].sequence == nextSequence {
                dueTimestamp = slots[i].timestamp + Int64(configuration.timestampsPerFrame)
                consume(slot: i, played: false)
            } else {
                advance(played: false)
                dueTimestamp += Int64(configuration.timestampsPerFrame)
            }
            counters.skipped += 1
        }
    }
}
