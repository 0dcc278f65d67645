import Codecs
import Realtime
import RouterCore

/// Decodes an Ogg Opus byte stream (any chunking, packets up to 120 ms, chained streams) into 20 ms PCM frames.
/// The internal FIFO doubles as a playout buffer: `prebuffer` waits for that much audio before playing (PersonaPlex
/// sends 80 ms bursts), and `max_buffer` drops the oldest audio when a backlog builds. Corrupt input is counted
/// and reported, never fatal.
public final class Decode: NodeType, ReportsLatency {
    public static let typeName = "Decode"
    public static let summary = "Decode Ogg Opus to 20 ms PCM frames (pre-skip, chained streams, playout buffer)."
    private enum Param {
        static let rate: ParameterKey<Int> = .choice(
            "rate", [8_000, 12_000, 16_000, 24_000, 48_000], default: 24_000,
            "Output sample rate.")
        static let channels: ParameterKey<Int> = .int("channels", 1...2, default: 1, "Output channel count.")
        static let prebuffer: ParameterKey<Double> = .duration(
            "prebuffer", default: 0,
            "Audio to buffer before playing (and after an underrun).")
        static let maxBuffer: ParameterKey<Double> = .duration(
            "max_buffer", default: 2,
            "Drop the oldest audio beyond this backlog (0: never).")
        static let applyPreSkip: ParameterKey<Bool> = .bool(
            "apply_pre_skip", default: true,
            "Drop OpusHead pre-skip samples (RFC 7845).")
    }
    public static let parameters = [
        Param.rate.spec, Param.channels.spec, Param.prebuffer.spec, Param.maxBuffer.spec,
        Param.applyPreSkip.spec,
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        let format = PCMFormat(sampleRate: params[Param.rate], channels: params[Param.channels])
        return PortLayout(
            inputs: [InputSpec("in", .ogg, doc: "Ogg Opus bytes in any chunking.")],
            outputs: [OutputSpec("out", .pcm(format), doc: "Decoded PCM, one frame per tick when available.")])
    }

    private let input: PacketInput
    private let output: PCMLane
    private let decoder: OggOpusDecoder
    private let metrics: NodeMetrics
    private let log: Logger
    private let clock: any MonotonicClock
    private let prebufferSamples: Int
    private let maxBufferSamples: Int
    private let discard: UnsafeMutableBufferPointer<Float>
    private var playing = false
    private var ended = false
    /// The error count when corruption was last logged (a new line every 50 more).
    private var loggedErrors = 0
    private var reportedTruncation = false
    private var garbageRuns = 0
    private var skippedBytesSeen = 0
    private var corruptPagesSeen = 0
    /// Ticks where playback had started but no frame was ready.
    public private(set) var underruns = 0
    /// Stamped input pages (e.g. read from a socket) until the first frame containing their audio is out.
    private var pageStamps = LatencyStampRing(capacity: 256)
    private var samplesIn = 0
    private var samplesOut = 0
    /// Stamped pages: origin (socket read) to their first 20 ms PCM frame on the output lane.
    public private(set) var pageToFirstFrame = LatencyHistogram()
    /// The same, counted from the start of the tick that output the frame (or the origin, if later).
    public private(set) var pageToFirstFrameInTick = LatencyHistogram()

    public var latencyReport: [(name: String, histogram: LatencyHistogram)] {
        [
            (
                "downlink (Ogg page read from the socket -> its first 20 ms PCM frame out, incl. prebuffer)",
                pageToFirstFrame
            ),
            (
                "downlink beyond frame alignment and prebuffer (tick start -> first PCM frame out)",
                pageToFirstFrameInTick
            ),
        ]
    }

    public init(_ setup: NodeSetup) throws {
        let p = setup.params
        input = setup.packetInput("in")
        output = setup.pcmOutput("out")
        metrics = setup.metrics
        log = setup.log
        clock = setup.clock
        let format = output.pcmFormat
        prebufferSamples = Int(p[Param.prebuffer] * Double(format.sampleRate))
        maxBufferSamples = Int(p[Param.maxBuffer] * Double(format.sampleRate))
        // The decoder decodes eagerly up to its capacity, so the backlog it reports is what max_buffer trims.
        let capacity = max(
            3 * format.sampleRate, maxBufferSamples + format.sampleRate, prebufferSamples + format.sampleRate)
        decoder = try OggOpusDecoder(
            sampleRate: format.sampleRate, channels: format.channels,
            applyPreSkip: p[Param.applyPreSkip], bufferCapacity: capacity)
        discard = .allocate(capacity: format.samplesPerFrame)
    }

    deinit { discard.deallocate() }

    public var isDrained: Bool { ended && decoder.bufferedSamplesPerChannel == 0 }

    public func process(_ tick: Tick) throws {
        for lane in input.lanes {
            for i in 0..<lane.count {
                let before = decoder.bufferedSamplesPerChannel
                decoder.push(lane[i])
                let added = decoder.bufferedSamplesPerChannel - before
                guard added > 0 else { continue }
                let stamp = lane.stamp(at: i)
                if stamp > 0 { pageStamps.push(position: samplesIn, stamp: stamp) }
                samplesIn += added
            }
        }
        let frameSamples = output.pcmFormat.samplesPerChannel
        if maxBufferSamples > 0 {
            while decoder.bufferedSamplesPerChannel > maxBufferSamples, decoder.readFrame(into: discard) {
                metrics.drops += 1
                samplesOut += frameSamples
                pageStamps.popAll(before: samplesOut) { _ in }
            }
        }
        metrics.queueDepth = decoder.bufferedSamplesPerChannel
        if input.allEnded { ended = true }
        if !playing {
            guard ended || decoder.bufferedSamplesPerChannel >= prebufferSamples else { return }
            playing = true
        }
        let wrote = decoder.readFrame(into: output.samples)
        if wrote {
            output.write { _ in }
            recordFirstFrames(through: samplesOut + frameSamples, tickStart: tick.startNanos)
        } else if ended {
            let n = decoder.readRemainder(into: output.samples)
            if n > 0 {
                recordFirstFrames(through: samplesOut + n, tickStart: tick.startNanos)
                let used = n * output.pcmFormat.channels
                output.write { out in UnsafeMutableBufferPointer(rebasing: out[used...]).update(repeating: 0) }
            }
        } else {
            underruns += 1
            if prebufferSamples > 0 { playing = false }
        }
        if isDrained { reportTruncation() }
        reportDamage()
    }

    /// The frame just written ends at sample `end`: every stamped page whose audio starts before it is out.
    private func recordFirstFrames(through end: Int, tickStart: UInt64) {
        samplesOut = end
        guard pageStamps.count > 0 else { return }
        let now = clock.nowNanoseconds()
        pageStamps.popAll(before: end) { stamp in
            pageToFirstFrame.record(Nanoseconds.elapsed(from: stamp, to: now))
            pageToFirstFrameInTick.record(Nanoseconds.elapsed(from: max(stamp, tickStart), to: now))
        }
    }

    /// Once the input has ended and every whole page is decoded, bytes still waiting in the Ogg layer are the start
    /// of a page that never completed: the stream was cut off. Reported once, and counted as one error.
    private func reportTruncation() {
        let unread = decoder.reader.unreadByteCount
        guard !reportedTruncation, unread > 0 else { return }
        reportedTruncation = true
        metrics.errors += 1  // already logged here, so the corruption report below stays quiet about it
        log.warning("truncated Ogg stream: \(unread) bytes of an incomplete page at end of input")
    }

    /// Counts every kind of damage into `metrics.errors`: undecodable packets, bad headers, garbage runs, pages of
    /// other streams, implausible granule positions, lost pages and a truncated end. A lost page shows up as a CRC
    /// failure, a sequence gap or both, so it counts once. Logged the first time and again after every 50 more.
    private func reportDamage() {
        let stats = decoder.reader.statistics
        // Bytes skipped outside a corrupt page (garbage before or between pages) count once per tick they show up in.
        if stats.skippedBytes > skippedBytesSeen && stats.corruptPages == corruptPagesSeen { garbageRuns += 1 }
        skippedBytesSeen = stats.skippedBytes
        corruptPagesSeen = stats.corruptPages
        let damage =
            decoder.decodeErrors + stats.invalidHeaders + garbageRuns + stats.foreignPages
            + stats.invalidGranulePositions + max(stats.corruptPages, stats.sequenceGaps) + (reportedTruncation ? 1 : 0)
        guard damage > metrics.errors else { return }
        metrics.errors = damage
        if loggedErrors == 0 || damage - loggedErrors >= 50 {
            let cause =
                decoder.lastError.map { "\($0)" } ?? decoder.reader.lastError.map { "\($0)" }
                ?? "damaged or missing pages"
            log.warning("corrupt Ogg Opus input (\(damage) so far): \(cause)")
            loggedErrors = damage
        }
    }
}
