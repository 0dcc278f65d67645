import Realtime

/// The send schedule, without I/O (discord.md §5 "Pacing"): one absolute deadline advanced by exactly 20 ms per
/// frame (`next += 20 ms`, never rebased on the actual send time), Speaking before the first packet of a talkspurt,
/// five `F8 FF FE` silence frames when audio stops, then nothing on the wire, then Speaking off.
///
/// The driver calls `deadlinePassed(now:queued:)` at each deadline and does what it returns.
public struct VoiceSendPacer: Sendable {
    /// 20 ms.
    public static let frameInterval: UInt64 = 20 * Nanoseconds.perMillisecond
    /// Silence frames sent when audio stops (discord.md §4).
    public static let trailingSilenceFrames = 5

    /// What to do at one deadline.
    public struct Step: Equatable, Sendable {
        /// Send op 5 Speaking on (before this tick's packet) or off (after it).
        public var speaking: Bool?
        public var packet: Packet
        public enum Packet: Equatable, Sendable {
            /// Nothing on the wire (the RTP timestamp still advances).
            case none
            /// Take one queued Opus frame and send it.
            case frame
            /// Send the silence frame `F8 FF FE`.
            case silence
        }
    }

    /// Counters since creation (Lavalink-style `sent / nulled / deficit` plus lateness).
    public struct Counters: Equatable, Sendable {
        /// Opus frames sent.
        public var sent = 0
        /// Silence frames sent.
        public var silence = 0
        /// Ticks inside a talkspurt with no frame ready.
        public var deficit = 0
        /// Deadlines met more than `lateThreshold` after they were due.
        public var late = 0
        /// Frames dropped because the queue held more than `maximumQueued` (the producer ran ahead).
        public var overflow = 0
        /// Worst lateness seen, in nanoseconds.
        public var worstLateness: UInt64 = 0
    }

    /// Frames queued before a talkspurt starts (absorbs phase jitter between the tick thread and the pacer).
    public var prefill = 2
    /// Empty ticks inside a talkspurt before it is declared over (each counted as a deficit).
    public var endAfterEmptyTicks = 3
    /// Most frames kept queued; older ones are dropped (bounded latency).
    public var maximumQueued = 6
    /// Lateness beyond which a tick counts as late.
    public var lateThreshold: UInt64 = 2 * Nanoseconds.perMillisecond

    /// The next deadline, in monotonic nanoseconds.
    public private(set) var next: UInt64
    public internal(set) var counters = Counters()
    /// Whether we are inside a talkspurt (Speaking on).
    public private(set) var talking = false
    private var emptyTicks = 0
    private var silenceLeft = 0
    /// Lateness histogram in 100 µs buckets (last bucket: ≥ 10 ms), for pacing-jitter percentiles.
    public private(set) var latenessHistogram = [Int](repeating: 0, count: 101)

    public init(start: UInt64) { next = start }

    /// How many queued frames to drop before this tick (the queue outgrew `maximumQueued`).
    public mutating func excess(queued: Int) -> Int {
        let excess = max(0, queued - maximumQueued)
        counters.overflow += excess
        return excess
    }

    /// The deadline `next` has passed (`now` ≥ `next`); `queued` frames are waiting. Advances `next` by 20 ms.
    public mutating func deadlinePassed(now: UInt64, queued: Int) -> Step {
        let lateness = Nanoseconds.elapsed(from: next, to: now)
        counters.worstLateness = max(counters.worstLateness, lateness)
        if lateness > lateThreshold { counters.late += 1 }
        latenessHistogram[min(100, Int(lateness / 100_000))] += 1
        next &+= Self.frameInterval
        // A stall longer than a few frames (suspended process): skip the missed deadlines, keep the phase.
        if now > next &+ 5 * Self.frameInterval {
            let missed = (now - next) / Self.frameInterval + 1
            next &+= missed * Self.frameInterval
        }
        return step(queued: queued)
    }

    private mutating func step(queued: Int) -> Step {
        if talking {
            if queued > 0 {
                emptyTicks = 0
                counters.sent += 1
                return Step(speaking: nil, packet: .frame)
            }
            counters.deficit += 1
            emptyTicks += 1
            guard emptyTicks >= endAfterEmptyTicks else { return Step(speaking: nil, packet: .none) }
            talking = false
            silenceLeft = Self.trailingSilenceFrames
        }
        if silenceLeft > 0 {
            // A new talkspurt may start during the trailing silence.
            if queued >= prefill { return startTalking() }
            silenceLeft -= 1
            counters.silence += 1
            return Step(speaking: silenceLeft == 0 ? false : nil, packet: .silence)
        }
        if queued >= prefill { return startTalking() }
        return Step(speaking: nil, packet: .none)
    }

    private mutating func startTalking() -> Step {
        let wasSilent = silenceLeft == 0
        talking = true
        emptyTicks = 0
        silenceLeft = 0
        counters.sent += 1
        return Step(speaking: wasSilent ? true : nil, packet: .frame)
    }

    /// The lateness below which `fraction` of deadlines were met (100 µs resolution).
    public func latenessPercentile(_ fraction: Double) -> UInt64 {
        let total = latenessHistogram.reduce(0, +)
        guard total > 0 else { return 0 }
        let target = Int((Double(total) * fraction).rounded(.up))
        var seen = 0
        for (bucket, count) in latenessHistogram.enumerated() {
            seen += count
            if seen >= target { return UInt64(bucket + 1) * 100_000 }
        }
        return 10 * Nanoseconds.perMillisecond
    }
}
