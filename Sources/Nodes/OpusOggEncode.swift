import Codecs
import RouterCore

/// Encodes PCM into one continuous Ogg Opus stream: OpusHead and OpusTags pages, then audio pages with correct CRCs
/// and granule positions, under a fixed serial. A `stream-restart` event starts a new logical stream (new BOS, new
/// serial), as PersonaPlex needs for each session. Ticks without a frame are skipped (no empty packets, no DTX).
/// `packets_per_page` sets how many Opus packets go on one page; `pages_per_flush` how many complete pages are held
/// back and sent together as one output item (the end of the input sends whatever is held).
public final class OpusOggEncode: NodeType {
    public static let typeName = "OpusOggEncode"
    public static let summary = "Encode PCM to a continuous Ogg Opus stream (libopus + libogg); restart on event."
    public static let parameters: [ParameterSpec] = [
        .optional("rate", .choice(["8000", "12000", "16000", "24000", "48000"]), default: .string("24000"), "Input sample rate."),
        .optional("channels", .int(1...2), default: .int(1), "Input channel count."),
        .optional("frame_ms", .choice(["10", "20", "40", "60"]), default: .string("20"), "Opus frame duration."),
        .optional("bitrate", .int(6_000...510_000), default: .int(32_000), "Target bitrate in bits per second."),
        .optional("complexity", .int(0...10), default: .int(5), "Encoder complexity 0...10."),
        .optional("application", .choice(["voip", "audio", "lowdelay"]), default: .string("audio"),
                  "libopus profile: audio (CELT, waveform-faithful, sample-aligned), voip (SILK speech model, lower bitrates, not waveform-faithful), lowdelay."),
        .optional("packets_per_page", .int(1...50), default: .int(1), "Opus packets per Ogg page (a page is closed when full)."),
        .optional("pages_per_flush", .int(1...50), default: .int(1), "Complete pages held back and sent together as one output item (1: each page at once)."),
        .optional("serial", .int(0...Int(UInt32.max)), default: .int(0), "Ogg serial number; 0 picks a random one per stream."),
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        let format = PCMFormat(sampleRate: Int(params.string("rate") ?? "24000") ?? 24_000, channels: params.int("channels") ?? 1)
        return PortLayout(
            inputs: [InputSpec("in", .pcm, .exact(format), doc: "PCM to encode."),
                     InputSpec("control", .event, required: false, doc: "stream-restart starts a new logical stream.")],
            outputs: [OutputSpec("out", MediaFormat(.ogg), doc: "Ogg pages; one item per flush of pages_per_flush pages.")])
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

    public init(_ setup: NodeSetup) throws {
        let p = setup.params
        input = setup.pcmInput("in")
        control = setup.eventInput("control")
        output = setup.packetOutput("out")
        log = setup.log
        let rate = Int(p.string("rate") ?? "24000") ?? 24_000
        let channels = p.int("channels") ?? 1
        let frameMs = Int(p.string("frame_ms") ?? "20") ?? 20
        let application = Self.application(named: p.string("application"))
        let opus = try OpusEncoder(sampleRate: rate, channels: channels, application: application,
                                   bitrate: p.int("bitrate") ?? 32_000, complexity: p.int("complexity") ?? 5,
                                   frameDuration: OpusFrameDuration(rawValue: frameMs * 10) ?? .ms20)
        let serial = p.int("serial") ?? 0
        fixedSerial = serial == 0 ? nil : UInt32(serial)
        encoder = try OggOpusEncoder(encoder: opus, serial: fixedSerial ?? UInt32.random(in: 1...UInt32.max),
                                     packetsPerPage: p.int("packets_per_page") ?? 1)
        pagesPerFlush = p.int("pages_per_flush") ?? 1
        frameSamples = opus.samplesPerChannel * channels
        pending = .allocate(capacity: frameSamples + rate / 50 * channels)
        pending.initialize(repeating: 0)
    }

    deinit { pending.deallocate() }

    /// The libopus profile named by the `application` parameter (audio when absent).
    static func application(named name: String?) -> OpusApplication {
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
        let enteredAt = monotonicNanoseconds()  // this tick's frame enters the encoder: stamped on its pages
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
                if pendingCount > 0 { pending.baseAddress!.update(from: pending.baseAddress! + frameSamples, count: pendingCount) }
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
    private func flushPages(stampedAt enteredAt: Int64) {
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
