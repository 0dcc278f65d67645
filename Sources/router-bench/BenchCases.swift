import CAllocCounter
import Codecs
import Nodes
import Realtime
import RouterCore

/// Prepared input for the bench feed nodes (set before each case's graph is built).
enum BenchData {
    // nonisolated(unsafe) throughout: the bench runs on one thread (the main thread ticks every graph itself), and
    // node types are built by the registry from a type, so their input can only come from static storage.
    /// The PCM the feed plays.
    nonisolated(unsafe) static var pcm: [Float] = []
    /// The feed's format (its port layout reads it).
    nonisolated(unsafe) static var pcmFormat = PCMFormat.discord
    /// Ogg pages per tick for the Ogg feed.
    nonisolated(unsafe) static var pages: [[[UInt8]]] = []
    /// Time the feed nodes spent this tick (they are test scaffolding, not the engine under measurement).
    nonisolated(unsafe) static var feedNanoseconds: Int64 = 0
}

/// Bench-only source: plays `BenchData.pcm` frame by frame, starting `offset` frames in (not in the standard registry).
final class BenchPCMFeed: NodeType {
    static let typeName = "BenchPCMFeed"
    static let summary = "bench source"
    private static let offset: ParameterKey<Int> = .int("offset", 0...1000, default: 0, "frames to skip")
    static let parameters = [offset.spec]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(outputs: [OutputSpec("out", .pcm(BenchData.pcmFormat), doc: "")])
    }
    private let out: PCMLane
    private var frame: Int
    init(_ setup: NodeSetup) throws {
        out = setup.pcmOutput("out")
        frame = setup.params[Self.offset]
    }
    func process(_ tick: Tick) throws {
        let t0 = benchNanoseconds()
        let n = out.pcmFormat.samplesPerFrame
        let start = (frame * n) % (BenchData.pcm.count - n)
        BenchData.pcm.withUnsafeBufferPointer { src in
            out.write { $0.baseAddress!.update(from: src.baseAddress! + start, count: n) }
        }
        frame += 1
        BenchData.feedNanoseconds += benchNanoseconds() - t0
    }
}

/// Bench-only source: one tick's worth of Ogg pages per tick from `BenchData.pages`.
final class BenchOggFeed: NodeType {
    static let typeName = "BenchOggFeed"
    static let summary = "bench source"
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(outputs: [OutputSpec("out", MediaFormat(.ogg), doc: "")])
    }
    private let out: PacketLane
    private var index = 0
    init(_ setup: NodeSetup) throws { out = setup.packetOutput("out") }
    func process(_ tick: Tick) throws {
        let t0 = benchNanoseconds()
        for page in BenchData.pages[index % BenchData.pages.count] { out.append(page) }
        index += 1
        BenchData.feedNanoseconds += benchNanoseconds() - t0
    }
}

enum BenchCases {
    static var registry: NodeRegistry {
        var r = NodeRegistry.standard
        r.register(BenchPCMFeed.self)
        r.register(BenchOggFeed.self)
        return r
    }

    /// Runs `frames` ticks of `yaml`, timing each whole tick (runtime plus the node under test; the feed nodes' own time
    /// is subtracted) beside `bare(i)`, interleaved, then counts heap allocations per tick.
    /// The bench graph with only its `Bench…` feed nodes and no links.
    static func feedsOnlyYAML(_ yaml: String) -> String {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        return (["nodes:"] + lines.filter { $0.contains("type: Bench") }.map(String.init)).joined(separator: "\n")
            + "\n"
    }

    static func measure(_ name: String, bareCall: String, yaml: String, frames: Int, bare: (Int) throws -> Void) throws
        -> BenchRow
    {
        // The system clock, as in production: the engine's clock reads are part of its cost.
        let session = try EmbeddedSession(yaml: yaml, registry: registry, clock: SystemClock.shared)
        // The same feeds alone: their runtime bookkeeping is the feeds' cost, not the node's, so it is subtracted.
        let feedsOnly = try EmbeddedSession(yaml: feedsOnlyYAML(yaml), registry: registry, clock: SystemClock.shared)
        var engine = [Int64](repeating: 0, count: frames), plain = [Int64](repeating: 0, count: frames)
        let warmUp = 50
        for i in 0..<warmUp {
            try bare(i)
            try session.tick()
            try feedsOnly.tick()
        }  // warm up every path
        // Interleaved, and the order alternates each frame, so neither side always runs on the other's warm cache.
        for i in warmUp..<(warmUp + frames) {
            func timeBare() throws -> Int64 {
                let t0 = benchNanoseconds()
                try bare(i)
                return benchNanoseconds() - t0
            }
            func timeTick(_ s: EmbeddedSession) throws -> Int64 {
                BenchData.feedNanoseconds = 0
                let t0 = benchNanoseconds()
                try s.tick()
                return benchNanoseconds() - t0 - BenchData.feedNanoseconds
            }
            // The node and its runtime bookkeeping: the whole graph's tick less the feeds-only graph's tick.
            func timeEngine() throws -> Int64 { try timeTick(session) - timeTick(feedsOnly) }
            if i % 2 == 0 {
                plain[i - warmUp] = try timeBare()
                engine[i - warmUp] = try timeEngine()
            } else {
                engine[i - warmUp] = try timeEngine()
                plain[i - warmUp] = try timeBare()
            }
        }
        let countTicks = 500
        let before = alloc_counter_total()
        for _ in 0..<countTicks { try session.session.tick() }
        let allocations = Double(alloc_counter_total() - before) / Double(countTicks)
        session.stop()
        feedsOnly.stop()
        return BenchRow(name: name, bareCall: bareCall, engine: engine, bare: plain, allocationsPerFrame: allocations)
    }

    static func mixer(_ signal: BenchSignal, frames: Int) throws -> BenchRow {
        BenchData.pcm = signal.stereo48k
        BenchData.pcmFormat = .discord
        let yaml = """
            nodes:
              a: {type: BenchPCMFeed, offset: 0}
              b: {type: BenchPCMFeed, offset: 7}
              c: {type: BenchPCMFeed, offset: 13}
              d: {type: BenchPCMFeed, offset: 29}
              mix: {type: Mixer}
            links:
              - a -> mix
              - b -> mix
              - c -> mix
              - d -> mix
            """
        let n = PCMFormat.discord.samplesPerFrame
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { out.deallocate() }
        return try measure(
            "Mixer (4 inputs, 48k stereo)", bareCall: "MixAccumulator over the same 4 frames (the mix loop alone)",
            yaml: yaml, frames: frames
        ) { i in
            signal.stereo48k.withUnsafeBufferPointer { src in
                let total = src.count - n
                var mix = MixAccumulator(out)
                for offset in [0, 7, 13, 29] {
                    mix.add(UnsafeBufferPointer(start: src.baseAddress! + ((i + offset) * n) % total, count: n))
                }
                _ = mix.finish(averaging: true, gain: 1, softLimit: true)
            }
        }
    }

    static func resample(_ signal: BenchSignal, frames: Int) throws -> BenchRow {
        BenchData.pcm = signal.stereo48k
        BenchData.pcmFormat = .discord
        let yaml = """
            nodes:
              feed: {type: BenchPCMFeed}
              down: {type: Resample, rate: 24000, channels: 1}
            links:
              - feed -> down
            """
        let resampler = try Resampler(
            inputRate: 48_000, inputChannels: 2, outputRate: 24_000, outputChannels: 1, skipZeros: true)
        let n = PCMFormat.discord.samplesPerFrame
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: 480)
        defer { out.deallocate() }
        return try measure(
            "Resample 48k stereo -> 24k mono", bareCall: "speexdsp Resampler.process on the same frame",
            yaml: yaml, frames: frames
        ) { i in
            signal.stereo48k.withUnsafeBufferPointer { src in
                let start = (i * n) % (src.count - n)
                _ = resampler.process(input: UnsafeBufferPointer(rebasing: src[start..<(start + n)]), output: out)
            }
        }
    }

    static func encode(_ signal: BenchSignal, frames: Int) throws -> BenchRow {
        BenchData.pcm = signal.mono24k
        BenchData.pcmFormat = .personaPlex
        let yaml = """
            nodes:
              feed: {type: BenchPCMFeed}
              encode: {type: OpusOggEncode, rate: 24000, channels: 1, bitrate: 32000, complexity: 5, application: audio}
            links:
              - feed -> encode
            """
        // The node's work: libopus encode, then libogg paging (one packet per page) and handing the page on.
        let encoder = try OpusEncoder(
            sampleRate: 24_000, channels: 1, application: .audio, bitrate: 32_000, complexity: 5)
        let writer = try OggOpusStreamWriter(encoder: encoder, serial: 0x5EED)
        writer.drainPages { _ in }  // OpusHead and OpusTags: the node sends them once too
        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: OpusEncoder.maxPacketBytes, alignment: 16)
        defer { packet.deallocate() }
        var pageBytes = 0
        let row = try measure(
            "OpusOggEncode 24k mono", bareCall: "libopus encode + libogg page (OggOpusStreamWriter)",
            yaml: yaml, frames: frames
        ) { i in
            try signal.mono24k.withUnsafeBufferPointer { src in
                let start = (i * 480) % (src.count - 480)
                let size = try encoder.encode(UnsafeBufferPointer(rebasing: src[start..<(start + 480)]), into: packet)
                try writer.write(packet: UnsafeRawBufferPointer(rebasing: packet[0..<size]))
                writer.drainPages { pageBytes += $0.count }
            }
        }
        guard pageBytes > 0 else { throw NodeError("bench: the bare Ogg writer produced no pages") }
        return row
    }

    static func decode(_ signal: BenchSignal, frames: Int) throws -> BenchRow {
        // Encode the signal once into Ogg pages, grouped by tick: the node and the bare reader get the same pages.
        let encoder = try OpusEncoder(
            sampleRate: 24_000, channels: 1, application: .audio, bitrate: 32_000, complexity: 5)
        let writer = try OggOpusStreamWriter(encoder: encoder, serial: 0x5EED)
        var pages: [[[UInt8]]] = []
        var buffer = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        let count = signal.mono24k.count / 480 - 1
        for i in 0..<count {
            let size = try signal.mono24k.withUnsafeBufferPointer { src in
                try buffer.withUnsafeMutableBytes {
                    try encoder.encode(UnsafeBufferPointer(rebasing: src[(i * 480)..<(i * 480 + 480)]), into: $0)
                }
            }
            try buffer.withUnsafeBytes { try writer.write(packet: UnsafeRawBufferPointer(rebasing: $0[0..<size])) }
            var tickPages: [[UInt8]] = []
            writer.drainPages { tickPages.append(Array($0)) }
            pages.append(tickPages)
        }
        BenchData.pages = pages
        let yaml = """
            nodes:
              feed: {type: BenchOggFeed}
              decode: {type: Decode, rate: 24000, channels: 1, max_buffer: 0}
            links:
              - feed -> decode
            """
        // The node's work: libogg page parsing (OggOpusStreamReader), then libopus decode of each packet.
        let reader = OggOpusStreamReader()
        let decoder = try OpusDecoder(sampleRate: 24_000, channels: 1)
        let pcm = UnsafeMutableBufferPointer<Float>.allocate(capacity: 5760)
        defer { pcm.deallocate() }
        var decodedPackets = 0
        let row = try measure(
            "Decode 24k mono", bareCall: "libogg page parse (OggOpusStreamReader) + libopus decode",
            yaml: yaml, frames: min(frames, count - 600)
        ) { i in
            for page in pages[i] { page.withUnsafeBytes { reader.push($0) } }
            while let event = reader.next() {
                if case .packet(let packet) = event {
                    _ = try decoder.decode(packet: packet.data, into: pcm)
                    decodedPackets += 1
                }
            }
        }
        guard decodedPackets > 0 else { throw NodeError("bench: the bare Ogg reader returned no packets") }
        return row
    }
}
