import Codecs

/// What `DiscordIn` counted for one speaker: their packets through the jitter buffer and the Opus decoder, summed
/// over every time they joined during the session. Read it after (or during, from the tick thread) the session for
/// a per-speaker summary.
public struct DiscordSpeakerCounters: Sendable, Equatable {
    /// The Discord user id (the stream's key on `out`).
    public var userID: UInt64
    /// Times the speaker's stream started (first frame, or first frame after leaving).
    public var joins = 0
    /// Frames put on `out` (decoded, concealed, or silence inside the stream's life).
    public var frames = 0
    /// Packets accepted into the jitter buffer.
    public var packets = 0
    /// Frames decoded from packets.
    public var decoded = 0
    /// Packets that arrived after their frame was played or concealed.
    public var late = 0
    /// Frames missing when due while later packets had arrived.
    public var lost = 0
    /// Frames concealed (Opus FEC or packet-loss concealment): losses, underruns and undecodable packets.
    public var concealed = 0
    /// Packets that arrived after one with a higher sequence number, still in time.
    public var reordered = 0
    /// Copies of a packet already held or played (dropped).
    public var duplicates = 0
    /// Empty or oversized payloads (dropped).
    public var malformed = 0
    /// Packets libopus refused (concealed instead).
    public var decodeErrors = 0
    /// Frames skipped to bring the delay back after a burst.
    public var skipped = 0
    /// Spurts restarted on a sequence or timestamp jump.
    public var resyncs = 0
    /// Talk spurts started.
    public var talkSpurts = 0
    /// Packets waiting in the jitter buffer now (0 once the speaker left).
    public var depth = 0
    /// Most packets waiting at once.
    public var maxDepth = 0
    /// The jitter buffer's last interarrival jitter estimate and playout target.
    public var jitterNanoseconds: UInt64 = 0
    public var targetDelayFrames = 0
    /// When the speaker's last packet arrived (`MonotonicClock` nanoseconds; 0 before any).
    public var lastArrival: UInt64 = 0

    public init(userID: UInt64) { self.userID = userID }

    /// Adds another stretch of the same speaker (an earlier join) to this one; gauges keep the later values.
    mutating func add(_ other: DiscordSpeakerCounters) {
        joins += other.joins
        frames += other.frames
        packets += other.packets
        decoded += other.decoded
        late += other.late
        lost += other.lost
        concealed += other.concealed
        reordered += other.reordered
        duplicates += other.duplicates
        malformed += other.malformed
        decodeErrors += other.decodeErrors
        skipped += other.skipped
        resyncs += other.resyncs
        talkSpurts += other.talkSpurts
        maxDepth = max(maxDepth, other.maxDepth)
        if other.lastArrival >= lastArrival {
            depth = other.depth
            jitterNanoseconds = other.jitterNanoseconds
            targetDelayFrames = other.targetDelayFrames
            lastArrival = other.lastArrival
        }
    }

    /// One line for a session summary.
    public var summary: String {
        "speaker \(userID): \(frames) frames (\(decoded) decoded), \(packets) packets, late \(late), lost \(lost), "
            + "concealed \(concealed), reordered \(reordered), duplicates \(duplicates), "
            + "undecodable \(malformed + decodeErrors), buffer depth max \(maxDepth), "
            + "jitter \(jitterNanoseconds / 1_000) µs, target \(targetDelayFrames * 20) ms"
    }
}

/// One slot of `DiscordIn`'s speaker pool: a decoder created at `init`, lent to one speaker at a time. The decoder's
/// counters run since its creation, so a speaker's own figures are the difference from the values at `acquire`.
final class DiscordSpeakerSlot {
    let decoder: SpeakerDecoder
    private(set) var userID: UInt64 = 0
    private(set) var ssrc: UInt32 = 0
    private(set) var isActive = false
    /// The speaker left the call (op 13): the slot is freed once the buffered audio has played.
    var isLeaving = false
    private(set) var lastArrival: UInt64 = 0
    /// Frames put on `out` since `acquire` (the node counts them).
    var frames = 0
    private var maxDepth = 0
    private var base: RTPJitterBuffer.Counters
    private var baseDecodeErrors = 0
    private var baseDecoded = 0

    init(decoder: SpeakerDecoder) {
        self.decoder = decoder
        base = decoder.jitter.counters
    }

    /// Lends the slot to `userID`: forgets the previous speaker's packets, keeps the counter baselines.
    func acquire(userID: UInt64, ssrc: UInt32) {
        decoder.jitter.reset()
        self.userID = userID
        self.ssrc = ssrc
        isActive = true
        isLeaving = false
        lastArrival = 0
        frames = 0
        maxDepth = 0
        base = decoder.jitter.counters
        baseDecodeErrors = decoder.decodeErrors
        baseDecoded = decoder.framesDecoded
    }

    /// Adds one packet. A new SSRC for the same user (they reconnected) starts their timeline afresh.
    func insert(ssrc: UInt32, sequence: UInt16, timestamp: UInt32, arrival: UInt64, opus: UnsafeRawBufferPointer) {
        if ssrc != self.ssrc {
            decoder.jitter.reset()
            self.ssrc = ssrc
        }
        lastArrival = max(lastArrival, arrival)
        decoder.insert(sequence: sequence, timestamp: timestamp, arrivalNanoseconds: arrival, opus: opus)
        maxDepth = max(maxDepth, decoder.jitter.counters.depth)
    }

    /// Writes this tick's frame; false when nothing is due (the caller writes silence).
    func decode(now: UInt64, into output: UnsafeMutableBufferPointer<Float>) -> Bool {
        decoder.decodeFrame(nowNanoseconds: now, into: output)
    }

    /// Frees the slot; the buffered packets are forgotten.
    func release() {
        decoder.jitter.reset()
        isActive = false
        isLeaving = false
    }

    /// This speaker's figures since `acquire`.
    var counters: DiscordSpeakerCounters {
        let now = decoder.jitter.counters
        var c = DiscordSpeakerCounters(userID: userID)
        c.joins = 1
        c.frames = frames
        c.packets = now.received - base.received
        c.decoded = decoder.framesDecoded - baseDecoded
        c.late = now.late - base.late
        c.lost = now.lost - base.lost
        c.concealed = now.concealed - base.concealed
        c.reordered = now.reordered - base.reordered
        c.duplicates = now.duplicates - base.duplicates
        c.malformed = now.malformed - base.malformed
        c.decodeErrors = decoder.decodeErrors - baseDecodeErrors
        c.skipped = now.skipped - base.skipped
        c.resyncs = now.resyncs - base.resyncs
        c.talkSpurts = now.talkSpurts - base.talkSpurts
        c.depth = isActive ? now.depth : 0
        c.maxDepth = maxDepth
        c.jitterNanoseconds = now.jitterNanoseconds
        c.targetDelayFrames = now.targetDelayFrames
        c.lastArrival = lastArrival
        return c
    }
}
