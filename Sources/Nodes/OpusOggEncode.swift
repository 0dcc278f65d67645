import Codecs
import Realtime
import RouterCore

/// Encodes PCM into one continuous Ogg Opus stream: OpusHead and OpusTags pages, then audio pages with correct CRCs
/// and granule positions, under a fixed serial. A `stream-restart` event starts a new logical stream (new BOS, new
/// serial), as PersonaPlex needs for each session. Ticks without a frame are skipped (no empty packets, no DTX).
/// `packets_per_page` sets how many Opus packets go on one page; `pages_per_flush` how many complete pages are held
/// back and sent together as one output item (the end of the input sends whatever is held).
public final class OpusOggEncode: NodeType {
    public static let typeName = "OpusOggEncode"
    public static let summary = "Encode PCM to a continuous Ogg Opus stream (libopus + libogg); restart on event."
    private enum Param {
        static let rate: ParameterKey<Int> = .choice(
            "rate", [8_000, 12_000, 16_000, 24_000, 48_000], default: 24_000,
            "Input sample rate.")
        static let channels: ParameterKey<Int> = .int("channels", 1...2, default: 1, "Input channel count.")
        static let frameMs: ParameterKey<Int> = .choice(
            "frame_ms", [10, 20, 40, 60], default: 20, "Opus frame duration.")
        static let bitrate: ParameterKey<Int> = .int(
            "bitrate", 6_000...510_000, default: 32_000,
            "Target bitrate in bits per second.")
        static let complexity: ParameterKey<Int> = .int("complexity", 0...10, default: 5, "Encoder complexity 0...10.")
        static let application: ParameterKey<String> = .choice(
            "application", ["voip", "audio", "lowdelay"], default: "audio",
            "libopus profile: audio (CELT, waveform-faithful, sample-aligned), voip (SILK speech model, lower bitrates, not waveform-faithful), lowdelay."
        )
        static let packetsPerPage: ParameterKey<Int> = .int(
            "packets_per_page", 1...50, default: 1,
            "Opus packets per Ogg page (a page is closed when full).")
        static let pagesPerFlush: ParameterKey<Int> = .int(
            "pages_per_flush", 1...50, default: 1,
            "Complete pages held back and sent together as one output item (1: each page at once).")
        static let serial: ParameterKey<Int> = .int(
            "serial", 0...Int(UInt32.max), default: 0,
            "Ogg serial number; 0 picks a random one per stream.")
    }
    public static let parameters = [
        Param.rate.spec, Param.channels.spec, Param.frameMs.spec, Param.bitrate.spec, Param.complexity.spec,
        Param.application.spec, Param.packetsPerPage.spec, Param.pagesPerFlush.spec, Param.serial.spec,
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        let format = PCMFormat(sampleRate: params[Param.rate], channels: params[Param.channels])
        return PortLayout(
            inputs: [
                InputSpec("in", .pcm, .exact(format), doc: "PCM to encode."),
                InputSpec("control", .event, required: false, doc: "stream-restart starts a new logical stream."),
            ],
            outputs: [
                OutputSpec("out", MediaFormat(.ogg), doc: "Ogg pages; one item per flush of pages_per_flush pages.")
            ])
    }

    private let input: PCMInput
    private let control: EventInput
    private let output: PacketLane
    private let encoder: OggOpusEncoder
    private let fixedSerial: UInt32?
    private let frameSamples: Int
    private let pagesPerFlush: Int
    private let pending: UnsafeMutableBufferPointer<Float>
    private var pendingCount = 0
    private var finished = false
    private let log: Logger
    private let clock: any MonotonicClock

    public init(_ setup: NodeSetup) throws {
        let p = setup.params
        clock = setup.clock
        input = setup.pcmInput("in")
        control = setup.eventInput("control")
        output = setup.packetOutput("out")
        log = setup.log
        let rate = p[Param.rate]
        let channels = p[Param.channels]
        guard let frameDuration = OpusFrameDuration(rawValue: p[Param.frameMs] * 10) else {
            throw NodeError("frame_ms \(p[Param.frameMs]) is not an Opus frame duration")
        }
        let application = Self.application(named: p[Param.application])
        let opus = try OpusEncoder(
            sampleRate: rate, channels: channels, application: application,
            bitrate: p[Param.bitrate], complexity: p[Param.complexity], frameDuration: frameDuration)
        let serial = p[Param.serial]
        fixedSerial = serial == 0 ? nil : UInt32(serial)
        var firstSerial = UInt32.random(in: 1...UInt32.max)
        if let fixedSerial { firstSerial = fixedSerial }
        encoder = try OggOpusEncoder(encoder: opus, serial: firstSerial, packetsPerPage: p[Param.packetsPerPage])
        pagesPerFlush = p[Param.pagesPerFlush]
        frameSamples = opus.samplesPerChannel * channels
        pending = .allocate(capacity: frameSamples + rate / Tick.perSecond * channels)
        pending.initialize(repeating: 0)
    }

    deinit { pending.deallocate() }

    /// The libopus profile named by the `application` parameter.
    static func application(named name: String) -> OpusApplication {
        switch name {
        case "voip": return .voip
        case "lowdelay": return .lowDelay
        default: return .audio
        }
    }

    /// The libopus profile the encoder was created with.
    public var application: OpusApplication { encoder.encoder.application }

    /// The serial of a restarted stream. Chained logical streams need distinct serials (RFC 3533), so a fixed serial
    /// counts up from the configured value (skipping 0); otherwise a random one that differs from the current.
    private func nextSerial() -> UInt32 {
        let current = encoder.writer.serial
        if fixedSerial != nil { return current == UInt32.max ? 1 : current + 1 }
        var serial = UInt32.random(in: 1...UInt32.max)
        while serial == current { serial = UInt32.random(in: 1...UInt32.max) }
        return serial
    }

    public func process(_ tick: Tick) throws {
        let enteredAt = clock.nowNanoseconds()  // this tick's frame enters the encoder: stamped on its pages
        var restart = false
        control.forEach { if case .streamRestart = $0 { restart = true } }
        if restart && !finished {
            encoder.restart(serial: nextSerial())
            pendingCount = 0
            log.info("new Ogg stream, serial \(encoder.writer.serial)")
        }
        if let frame = input.frame, !finished {
            (pending.baseAddress! + pendingCount).update(from: frame.baseAddress!, count: frame.count)
            pendingCount += frame.count
            while pendingCount >= frameSamples {
                try encoder.encode(UnsafeBufferPointer(rebasing: pending[0..<frameSamples]))
                pendingCount -= frameSamples
                if pendingCount > 0 {
                    pending.baseAddress!.update(from: pending.baseAddress! + frameSamples, count: pendingCount)
                }
            }
        }
        if input.allEnded && !finished {
            finished = true
            try encoder.finish(remainder: UnsafeBufferPointer(rebasing: pending[0..<pendingCount]))
            pendingCount = 0
        }
        flushPages(stampedAt: enteredAt)
    }

    /// Sends held pages in items of `pages_per_flush` complete pages; once the input has ended, whatever is left
    /// goes out as a last, shorter item. Items are written in place, so nothing is allocated.
    private func flushPages(stampedAt enteredAt: UInt64) {
        let writer = encoder.writer
        while writer.pendingPageCount >= pagesPerFlush || (finished && writer.pendingPageCount > 0) {
            let count = min(pagesPerFlush, writer.pendingPageCount)
            output.append(maxBytes: writer.pendingByteCount(ofFirst: count)) { room in
                var used = 0
                writer.drainPages(first: count) { page in
                    (room.baseAddress! + used).copyMemory(from: page.baseAddress!, byteCount: page.count)
                    used += page.count
                }
                return used
            }
            output.stampLast(enteredAt)
        }
    }
}
