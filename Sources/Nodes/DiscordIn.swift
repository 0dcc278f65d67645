import Codecs
import DiscordVoice
import Realtime
import RouterCore

/// What a Discord node says when its host gave it no voice connection (a plain `router run` outside the bot).
func missingVoiceSession(_ typeName: String) -> NodeError {
    NodeError(
        "\(typeName) needs a Discord voice session, and this run has none: `router run` of the pipeline starts the "
            + "bot, which joins a voice channel and hands the session to the node (without DISCORD_TOKEN, the "
            + "built-in Discord simulator); running the graph on its own, replace \(typeName) with WavIn/WavOut")
}

/// The voice channel's speakers as per-speaker PCM streams: reads the voice connection's received Opus frames (its
/// `VoiceReceiveQueue`), runs each speaker's adaptive jitter buffer and decodes straight to `rate`/`channels` (Opus
/// FEC, then packet-loss concealment, for what is missing). A speaker's stream appears with their first packet and is
/// carried every tick (silence between talk spurts) until they leave the call or stay silent for `leave_after`;
/// `events` says `speaker joined` / `speaker left` at those moments. Decoders are created up front for
/// `max_speakers`; a speaker beyond that is counted and ignored.
public final class DiscordIn: NodeType, ReportsLatency {
    public static let typeName = "DiscordIn"
    public static let summary =
        "Source: the Discord voice channel's speakers as per-speaker PCM streams (jitter buffer, Opus FEC/PLC)."
    private enum Param {
        static let rate: ParameterKey<Int> = .choice(
            "rate", [8_000, 12_000, 16_000, 24_000, 48_000], default: 48_000,
            "Output sample rate (Opus decodes straight to it: 24000 for PersonaPlex skips a resample).")
        static let channels: ParameterKey<Int> = .int("channels", 1...2, default: 2, "Output channel count.")
        static let jitter: ParameterKey<Double> = .duration(
            "jitter", default: 0.06, "Jitter buffer hold before a speaker's first talk spurt plays (adapts later).")
        static let maxJitter: ParameterKey<Double> = .duration(
            "max_jitter", default: 0.2, "Upper bound of the adaptive jitter buffer hold.")
        static let maxSpeakers: ParameterKey<Int> = .int(
            "max_speakers", 1...32, default: 8,
            "Speakers decoded at once (decoders are made up front); more are counted and ignored.")
        static let leaveAfter: ParameterKey<Double> = .duration(
            "leave_after", default: 2,
            "A speaker silent this long leaves the streams (speaker left) until they speak again.")
    }
    public static let parameters = [
        Param.rate.spec, Param.channels.spec, Param.jitter.spec, Param.maxJitter.spec, Param.maxSpeakers.spec,
        Param.leaveAfter.spec,
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        let format = PCMFormat(sampleRate: params[Param.rate], channels: params[Param.channels])
        return PortLayout(outputs: [
            OutputSpec(
                "out", MediaFormat(.pcmStreams, pcm: format),
                doc: "One stream per speaker, keyed by Discord user id (link to a Mixer's 'streams')."),
            OutputSpec("events", MediaFormat(.event), doc: "speaker joined / speaker left."),
        ])
    }

    /// The longest hold accepted (the jitter buffer keeps twice as many packets).
    static let maxJitterFrames = 50

    public static func check(_ params: Parameters) -> [NodeCheckProblem] {
        let hold = frames(params[Param.jitter]), bound = frames(params[Param.maxJitter])
        if bound > maxJitterFrames {
            return [
                NodeCheckProblem(
                    "max_jitter", "max_jitter \(bound * 20) ms is above \(maxJitterFrames * 20) ms",
                    hint: "200ms covers a poor connection; more only adds delay")
            ]
        }
        if hold > bound {
            return [
                NodeCheckProblem(
                    "jitter", "jitter (\(hold * 20) ms) is above max_jitter (\(bound * 20) ms)",
                    hint: "lower jitter or raise max_jitter")
            ]
        }
        return []
    }

    public static func pacing(_ params: Parameters) -> PacingPreference { .realtime }

    /// A duration in whole 20 ms frames, at least one.
    private static func frames(_ seconds: Double) -> Int { max(1, Int(min(Tick.count(seconds: seconds), 1_000))) }

    private let queue: VoiceReceiveQueue?
    private let output: PCMStreamsLane
    private let events: EventLane
    private let clock: any MonotonicClock
    private let metrics: NodeMetrics
    private let slots: [DiscordSpeakerSlot]
    private let leaveAfter: UInt64
    /// One frame, for a speaker who may be leaving (decoded here before deciding whether their stream goes on).
    private let scratch: UnsafeMutableBufferPointer<Float>
    /// Speakers who left, their figures summed per user (room reserved up front; more are only counted).
    private var departed: [DiscordSpeakerCounters] = []
    private var departedTotals = DiscordSpeakerCounters(userID: 0)
    /// Distinct speakers ignored because every decoder was taken (room reserved up front).
    private var ignoredIDs: [UInt64] = []
    static let historyCapacity = 256
    private var laneFull = 0

    /// Speakers beyond `max_speakers` ignored (distinct user ids, counted up to 256).
    public private(set) var ignoredSpeakers = 0
    /// Frames of ignored speakers.
    public private(set) var ignoredFrames = 0
    /// Speakers that left after the history was full: counted in the totals, not listed.
    public private(set) var unlistedSpeakers = 0
    /// Received packets: arrival on the socket → the tick that read them from the queue (frame alignment, beyond
    /// which the jitter buffer holds them by design).
    public private(set) var handoffLatency = LatencyHistogram()

    public var latencyReport: [(name: String, histogram: LatencyHistogram)] {
        [("RTP packet arrival -> read by the tick (before the jitter buffer)", handoffLatency)]
    }

    public init(_ setup: NodeSetup) throws {
        let p = setup.params
        queue = setup.resources.get(VoiceReceiveQueue.self)
        output = setup.streamsOutput("out")
        events = setup.eventOutput("events")
        clock = setup.clock
        metrics = setup.metrics
        var jitter = RTPJitterBuffer.Configuration()
        jitter.maxDelayFrames = Self.frames(p[Param.maxJitter])
        jitter.initialDelayFrames = min(Self.frames(p[Param.jitter]), jitter.maxDelayFrames)
        jitter.capacity = jitter.maxDelayFrames * 2 <= 64 ? 64 : 128
        var made: [DiscordSpeakerSlot] = []
        for _ in 0..<min(p[Param.maxSpeakers], output.capacity) {
            let decoder = try SpeakerDecoder(sampleRate: p[Param.rate], channels: p[Param.channels], jitter: jitter)
            made.append(DiscordSpeakerSlot(decoder: decoder))
        }
        slots = made
        leaveAfter = Nanoseconds.from(seconds: p[Param.leaveAfter])
        scratch = .allocate(capacity: output.pcmFormat.samplesPerFrame)
        scratch.initialize(repeating: 0)
        departed.reserveCapacity(Self.historyCapacity)
        ignoredIDs.reserveCapacity(Self.historyCapacity)
    }

    deinit { scratch.deallocate() }

    public func start() throws {
        guard queue != nil else { throw missingVoiceSession(Self.typeName) }
    }

    public func process(_ tick: Tick) throws {
        guard let queue else { return }
        let now = clock.nowNanoseconds()
        while let event = queue.nextEvent() { handle(event) }
        queue.drainFrames { frame in receive(&frame, now: now) }
        for slot in slots where slot.isActive { play(slot, now: now) }
        updateMetrics(queue)
    }

    private func handle(_ event: VoiceSpeakerEvent) {
        switch event {
        case .started(let userID, _):
            slot(of: userID)?.isLeaving = false
        case .left(let userID):
            slot(of: userID)?.isLeaving = true
        case .silent:
            break  // the jitter buffer sees the pause in the timestamps; `leave_after` ends a long one
        }
    }

    private func receive(_ frame: inout VoiceFrameSlot, now: UInt64) {
        handoffLatency.record(Nanoseconds.elapsed(from: frame.arrival, to: now))
        let slot: DiscordSpeakerSlot
        if let existing = self.slot(of: frame.userID) {
            slot = existing
        } else if let free = slots.first(where: { !$0.isActive }) {
            free.acquire(userID: frame.userID, ssrc: frame.ssrc)
            events.emit(.speakerJoined(id: frame.userID))
            slot = free
        } else {
            ignore(frame.userID)
            return
        }
        let (ssrc, sequence, timestamp, arrival) = (frame.ssrc, frame.sequence, frame.timestamp, frame.arrival)
        frame.opus.withUnsafeBytes {
            slot.insert(ssrc: ssrc, sequence: sequence, timestamp: timestamp, arrival: arrival, opus: $0)
        }
    }

    /// Puts the speaker's frame for this tick on `out`, or frees their slot once they left (or stayed silent for
    /// `leave_after`) and nothing of theirs is left to play. Only then is the frame decoded aside first: the lane
    /// cannot take back a stream once appended.
    private func play(_ slot: DiscordSpeakerSlot, now: UInt64) {
        let mayEnd = slot.isLeaving || Nanoseconds.elapsed(from: slot.lastArrival, to: now) >= leaveAfter
        if mayEnd {
            guard slot.decode(now: now, into: scratch) else { return release(slot) }
        }
        let appended = output.append(id: slot.userID) { out in
            if mayEnd {
                out.baseAddress!.update(from: scratch.baseAddress!, count: out.count)
            } else if !slot.decode(now: now, into: out) {
                out.update(repeating: 0)  // between talk spurts: the stream goes on, silent
            }
        }
        if appended {
            slot.frames += 1
        } else {
            laneFull += 1  // (cannot happen: max_speakers is bounded by the lane's capacity)
        }
    }

    private func release(_ slot: DiscordSpeakerSlot) {
        let counters = slot.counters
        slot.release()
        events.emit(.speakerLeft(id: counters.userID))
        departedTotals.add(counters)
        if let i = departed.firstIndex(where: { $0.userID == counters.userID }) {
            departed[i].add(counters)
        } else if departed.count < Self.historyCapacity {
            departed.append(counters)
        } else {
            unlistedSpeakers += 1
        }
    }

    private func ignore(_ userID: UInt64) {
        ignoredFrames += 1
        guard !ignoredIDs.contains(userID), ignoredIDs.count < Self.historyCapacity else { return }
        ignoredIDs.append(userID)
        ignoredSpeakers += 1
    }

    private func slot(of userID: UInt64) -> DiscordSpeakerSlot? {
        for slot in slots where slot.isActive && slot.userID == userID { return slot }
        return nil
    }

    /// drops: ignored speakers' frames, late and duplicate packets, frames the full queue refused; errors:
    /// undecodable packets; queue: packets in the jitter buffers.
    private func updateMetrics(_ queue: VoiceReceiveQueue) {
        var totals = departedTotals
        var depth = 0
        for slot in slots where slot.isActive {
            let c = slot.counters
            totals.add(c)
            depth += c.depth
        }
        metrics.drops = ignoredFrames + laneFull + totals.late + totals.duplicates + queue.frames.dropped
        metrics.errors = totals.malformed + totals.decodeErrors
        metrics.queueDepth = depth
    }

    // MARK: - Reading the figures (any time on the tick thread; after the session from anywhere)

    /// Every speaker heard in the session (departed and current), keyed by user id.
    public var speakerCounters: [UInt64: DiscordSpeakerCounters] {
        var all: [UInt64: DiscordSpeakerCounters] = [:]
        for c in departed { all[c.userID] = c }
        for slot in slots where slot.isActive {
            all[slot.userID, default: DiscordSpeakerCounters(userID: slot.userID)].add(slot.counters)
        }
        return all
    }

    /// User ids with a stream on `out` now.
    public var activeSpeakers: [UInt64] { slots.filter(\.isActive).map(\.userID) }

    /// When the last packet of `userID` arrived (`MonotonicClock` nanoseconds), while they have a stream.
    public func lastArrival(of userID: UInt64) -> UInt64? { slot(of: userID)?.lastArrival }
}
