import ArgumentParser
import CAllocCounter
import Codecs
import Foundation
import Nodes
import Realtime
import RouterCore

#if canImport(Glibc)
    import Glibc
#endif

/// `router-bench link`: CPU of one live PersonaPlex link per 20 ms frame (both directions, whole process: session
/// thread and NIO threads) against a real server or the sphn peer, beside bare libopus on the same frames in the
/// same run, and the link's latencies. `scripts/bench-link.sh` starts the peer and runs it.
struct LinkBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Measure CPU per live PersonaPlex link frame against bare libopus, and the link's latencies.",
        discussion: """
            Runs feed -> OpusOggEncode -> PersonaPlexLink -> Decode -> sink in real time for --seconds after the \
            link went live. Build with -c release. Example: bash scripts/bench-link.sh 30
            """
    )

    @Option(help: "PersonaPlex URL (ws:// or wss://).")
    var url: String

    @Option(help: "Seconds of live audio to measure.")
    var seconds: Double = 30

    @Option(help: "Decode prebuffer in seconds (0 measures what the router adds; the shipped pipeline uses 0.1).")
    var prebuffer: Double = 0

    @Option(name: .customLong("text-prompt"), help: "The persona prompt sent to the server.")
    var textPrompt = "You are a benchmark."

    func run() throws {
        #if DEBUG
            print("note: this is a debug build; use `swift build -c release` for meaningful figures")
        #endif
        let liveTicks = Tick.count(seconds: seconds)
        let signal = BenchSignal(frames: Int(liveTicks + Tick.count(seconds: 60)) + 100)
        BenchData.pcm = signal.mono24k
        BenchData.pcmFormat = .personaPlex
        LinkBenchCapture.reserve(bytes: Int(seconds) * 8_000 + 65_536)
        var registry = BenchCases.registry
        registry.register(LinkBenchCapture.self)
        registry.register(LinkBenchSink.self)
        let yaml = """
            nodes:
              feed:   {type: BenchPCMFeed}
              encode: {type: OpusOggEncode, rate: 24000, channels: 1}
              ai:     {type: PersonaPlexLink, url: "\(url)", text_prompt: "\(textPrompt)"}
              decode: {type: Decode, rate: 24000, channels: 1, prebuffer: \(prebuffer), apply_pre_skip: false}
              sink:   {type: LinkBenchSink}
              pages:  {type: LinkBenchCapture}
            links:
              - feed -> encode -> ai.audio
              - ai.audio -> decode -> sink
              - ai.audio -> pages
              - ai.events -> encode.control
            """
        let pipeline = try PipelineValidator(registry: registry).validate(
            yaml: yaml, file: "bench-link", environment: PipelineEnvironment([:]))
        let session = Session(graph: try Graph(pipeline))
        guard let link = session.graph.node(named: "ai") as? PersonaPlexLink else {
            throw ValidationError("no link node")
        }
        try session.start()
        defer { session.stop() }

        var deadline = SystemClock.now()
        var liveAt:
            (tick: Int64, cpu: Int64, sessionThreadCPU: Int64, allocations: UInt64, threads: [Int32: ThreadSample])?
        var feedNanos: Int64 = 0
        let paced = try PacedBareOpus()
        let sessionTid = alloc_counter_gettid()
        let giveUp = Tick.count(seconds: 70)  // the link's own handshake timeout (60 s) fails the session before this
        while true {
            if liveAt != nil { BenchData.feedNanoseconds = 0 }
            try session.tick()
            if let start = liveAt {
                feedNanos += BenchData.feedNanoseconds
                try paced.step(
                    pcm: signal.mono24k, index: Int(session.tickIndex - 1), downlink: LinkBenchCapture.captured)
                if session.tickIndex - start.tick >= liveTicks { break }
            } else if link.isLive {
                let threads = ThreadSample.all()
                liveAt = (
                    session.tickIndex, cpuNanos(CLOCK_PROCESS_CPUTIME_ID), cpuNanos(CLOCK_THREAD_CPUTIME_ID),
                    alloc_counter_total(), threads
                )
            } else if session.tickIndex > giveUp {
                throw ValidationError("the link did not go live within 70 s")
            }
            deadline = Nanoseconds.adding(deadline, Tick.nanoseconds)
            sleepUntil(deadline)
        }
        let excluded = feedNanos + paced.hookNanos
        let processCPU = cpuNanos(CLOCK_PROCESS_CPUTIME_ID) - liveAt!.cpu - excluded
        let sessionThreadCPU = cpuNanos(CLOCK_THREAD_CPUTIME_ID) - liveAt!.sessionThreadCPU - excluded
        let allocations =
            Double(alloc_counter_total() - liveAt!.allocations - paced.hookAllocations) / Double(liveTicks)
        let threads = ThreadSample.delta(liveAt!.threads, ThreadSample.all())
        let firstFrame = Int(liveAt!.tick)
        session.stop()

        let bare = try bareOpus(
            pcm: signal.mono24k, firstFrame: firstFrame, frames: Int(liveTicks),
            downlink: LinkBenchCapture.captured)
        let perFrame = Double(processCPU) / Double(liveTicks)
        let barePerFrame = bare.encodePerFrame + bare.decodePer20ms
        let pacedBare = paced.perFrame
        let pacedPerFrame = pacedBare.encode + pacedBare.decode
        let ticks = Double(liveTicks)
        print(
            String(
                format: "bench-link: %.0f s live against %@ (%lld frames of 20 ms each way)", seconds, url, liveTicks))
        print(
            String(
                format: "  router process CPU per live 20 ms frame, both directions: %.1f µs (%.2f %% of one core)",
                perFrame / 1e3, perFrame / 20e6 * 100))
        print(
            String(
                format:
                    "    of which the session thread (graph: encode, link, decode, pacing) %.1f µs, other threads (NIO event loop) %.1f µs",
                Double(sessionThreadCPU) / ticks / 1e3, Double(processCPU - sessionThreadCPU) / ticks / 1e3))
        for t in threads.prefix(6) {
            let own = t.tid == sessionTid
            let cpu = Double(t.cpuNanos - (own ? excluded : 0)) / ticks / 1e3
            let allocs = Double(t.allocations &- (own ? paced.hookAllocations : 0)) / ticks
            print(
                String(
                    format: "    thread %@ %@: %.1f µs CPU, %.2f heap allocations per live frame",
                    own ? "session" : "other", t.name, cpu, allocs))
        }
        print(
            String(
                format:
                    "  bare libopus per 20 ms frame, tight loop (warm caches): encode %.1f µs + decode %.1f µs = %.1f µs (%d server packets, %d × 20 ms)",
                bare.encodePerFrame / 1e3, bare.decodePer20ms / 1e3, barePerFrame / 1e3, bare.packets, bare.decoded20ms)
        )
        print(
            String(
                format:
                    "  bare libopus per 20 ms frame, paced on the session thread after each tick: encode %.1f µs + decode %.1f µs = %.1f µs (%d server packets)",
                pacedBare.encode / 1e3, pacedBare.decode / 1e3, pacedPerFrame / 1e3, paced.packets))
        print(
            String(
                format: "  ratio link / bare libopus: %.2f (tight loop), %.2f (paced)", perFrame / barePerFrame,
                perFrame / pacedPerFrame))
        if alloc_counter_active() != 0 {
            print(
                String(
                    format:
                        "  heap allocations per live 20 ms frame, whole process (both directions, NIO included): %.1f",
                    allocations))
        }
        print(MetricsReport.renderLatencies(session.graph))
        print(MetricsReport.render(session.metrics))
    }

    /// The same 20 ms frames encoded with the pipeline's encoder settings, and the server's packets decoded, on this
    /// thread (CPU time of this thread only).
    private func bareOpus(pcm: [Float], firstFrame: Int, frames: Int, downlink: [UInt8])
        throws -> (encodePerFrame: Double, decodePer20ms: Double, packets: Int, decoded20ms: Int)
    {
        let encoder = try OpusEncoder(
            sampleRate: 24_000, channels: 1, application: .audio, bitrate: 32_000,
            complexity: 5, frameDuration: .ms20)
        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: OpusEncoder.maxPacketBytes, alignment: 16)
        defer { packet.deallocate() }
        let n = 480
        let t0 = cpuNanos(CLOCK_THREAD_CPUTIME_ID)
        try pcm.withUnsafeBufferPointer { src in
            for i in firstFrame..<(firstFrame + frames) {
                let start = (i * n) % (src.count - n)
                _ = try encoder.encode(UnsafeBufferPointer(rebasing: src[start..<(start + n)]), into: packet)
            }
        }
        let encodeNanos = cpuNanos(CLOCK_THREAD_CPUTIME_ID) - t0

        let reader = OggOpusStreamReader()
        var packets: [[UInt8]] = []
        downlink.withUnsafeBytes { reader.push($0) }
        while let event = reader.next() {
            if case .packet(let p) = event { packets.append(Array(p.data)) }
        }
        let decoder = try OpusDecoder(sampleRate: 24_000, channels: 1)
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: decoder.maxSamplesPerChannel)
        defer { out.deallocate() }
        var samples = 0
        let t1 = cpuNanos(CLOCK_THREAD_CPUTIME_ID)
        for p in packets { samples += try p.withUnsafeBytes { try decoder.decode(packet: $0, into: out) } }
        let decodeNanos = cpuNanos(CLOCK_THREAD_CPUTIME_ID) - t1
        let decoded20ms = max(1, samples / n)
        return (
            Double(encodeNanos) / Double(frames), Double(decodeNanos) / Double(decoded20ms), packets.count, decoded20ms
        )
    }
}

/// CPU time of `clock` (process or calling thread) in nanoseconds.
func cpuNanos(_ clock: clockid_t) -> Int64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Bench-only sink: consumes PCM frames.
final class LinkBenchSink: NodeType {
    static let typeName = "LinkBenchSink"
    static let summary = "bench sink"
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout { PortLayout(inputs: [InputSpec("in", .pcm, doc: "")]) }
    private let input: PCMInput
    private(set) var frames = 0
    init(_ setup: NodeSetup) throws { input = setup.pcmInput("in") }
    func process(_ tick: Tick) throws { if input.frame != nil { frames += 1 } }
}

/// Bench-only sink: keeps the server's Ogg bytes (for the bare decode) in a preallocated buffer.
final class LinkBenchCapture: NodeType {
    static let typeName = "LinkBenchCapture"
    static let summary = "bench capture"
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout { PortLayout(inputs: [InputSpec("in", .ogg, doc: "")]) }
    // nonisolated(unsafe): written by the session thread's tick and read by the same thread after the run.
    nonisolated(unsafe) static var captured: [UInt8] = []
    static func reserve(bytes: Int) {
        captured = []
        captured.reserveCapacity(bytes)
    }
    private let input: PacketInput
    init(_ setup: NodeSetup) throws { input = setup.packetInput("in") }
    func process(_ tick: Tick) throws { input.forEach { Self.captured.append(contentsOf: $0) } }
}
