import Codecs
import RouterCore
#if canImport(Glibc)
import Glibc
#endif

/// Plays a greeting, then ends: the first two phrases of Ode to Joy (seed 000: sine tones with an attack/release
/// envelope) or a WAV file. Optionally plays while a link warms up and stops (with a short fade) when it goes live.
public final class Greeting: NodeType {
    public static let typeName = "Greeting"
    public static let summary = "Play Ode to Joy (or a WAV file) once, or until a link goes live; then end."
    public static let parameters: [ParameterSpec] = [
        .optional("rate", .sampleRate, default: .int(48_000), "Output sample rate."),
        .optional("channels", .int(1...8), default: .int(2), "Output channel count."),
        .optional("file", .path, default: nil, "A WAV file to play instead of the melody (any rate/channels)."),
        .optional("volume", .double(0...1), default: .double(0.3), "Peak amplitude of the melody (0...1)."),
        .optional("tempo_bpm", .double(30...400), default: .double(150), "Melody tempo in beats per minute."),
        .optional("stop_on_live", .bool, default: .bool(false), "Stop when the control input reports the link live (or closed/failed)."),
        .optional("loop", .bool, default: .bool(false), "Repeat until stopped by the control input (needs stop_on_live)."),
        .optional("max_duration", .duration, default: .double(120), "Give up looping after this long."),
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        let format = PCMFormat(sampleRate: params.int("rate") ?? 48_000, channels: params.int("channels") ?? 2)
        return PortLayout(
            inputs: [InputSpec("control", .event, required: false, doc: "Link state events (with stop_on_live).")],
            outputs: [OutputSpec("out", .pcm(format), doc: "The greeting audio; ends when done.")])
    }

    public static func check(_ params: Parameters) -> [NodeCheckProblem] {
        if params.bool("loop") == true && params.bool("stop_on_live") != true {
            return [NodeCheckProblem("loop", "loop: true needs stop_on_live: true, or the greeting would never end",
                                     hint: "add 'stop_on_live: true' and link a link's events to this node's control input, or drop 'loop'")]
        }
        return []
    }

    /// The melody of seed 000: E4 E4 F4 G4 G4 F4 E4 D4 C4 C4 D4 E4 E4-- D4--- (note, length in beats).
    public static let odeToJoy: [(frequency: Double, beats: Double)] = [
        (329.63, 1), (329.63, 1), (349.23, 1), (392.00, 1), (392.00, 1), (349.23, 1), (329.63, 1), (293.66, 1),
        (261.63, 1), (261.63, 1), (293.66, 1), (329.63, 1), (329.63, 1.5), (293.66, 0.5), (293.66, 2),
    ]

    /// Renders the melody as Float32 interleaved PCM: sine tones, 10 ms attack, 60 ms release, no clicks.
    public static func renderMelody(format: PCMFormat, volume: Double, tempoBPM: Double) -> [Float] {
        let rate = Double(format.sampleRate)
        let beat = 60 / tempoBPM
        var out: [Float] = []
        for (frequency, beats) in odeToJoy {
            let n = Int(beats * beat * rate)
            let attack = Int(0.010 * rate), release = Int(0.060 * rate)
            for i in 0..<n {
                var envelope = 1.0
                if i < attack { envelope = Double(i) / Double(attack) }
                if i > n - release { envelope = min(envelope, Double(n - i) / Double(release)) }
                let v = Float(volume * envelope * sin(2 * .pi * frequency * Double(i) / rate))
                for _ in 0..<format.channels { out.append(v) }
            }
        }
        return out
    }

    private let output: PCMLane
    private let control: EventInput
    private let audio: [Float]
    private let stopOnLive: Bool
    private let loops: Bool
    private let maxTicks: Int64
    private var position = 0
    private var fadingOut = false
    private let log: Logger

    public init(_ setup: NodeSetup) throws {
        let p = setup.params
        output = setup.pcmOutput("out")
        control = setup.eventInput("control")
        stopOnLive = p.bool("stop_on_live") ?? false
        loops = p.bool("loop") ?? false
        maxTicks = Int64((p.double("max_duration") ?? 120) * 50)
        log = setup.log
        let format = output.pcmFormat
        if let path = p.path("file") {
            audio = try Self.loadWAV(path, as: format)
        } else {
            audio = Self.renderMelody(format: format, volume: p.double("volume") ?? 0.3, tempoBPM: p.double("tempo_bpm") ?? 150)
        }
    }

    /// Reads a WAV file and converts it to `format` with the speexdsp resampler, time-aligned (filter delay skipped)
    /// and complete (the filter tail flushed at the end).
    static func loadWAV(_ path: String, as format: PCMFormat) throws -> [Float] {
        let (wav, samples) = try WAVReader.read(path: path)
        if wav.sampleRate == format.sampleRate && wav.channels == format.channels { return samples }
        let resampler = try Resampler(inputRate: wav.sampleRate, inputChannels: wav.channels,
                                      outputRate: format.sampleRate, outputChannels: format.channels, skipZeros: true)
        var out: [Float] = []
        var buffer = [Float](repeating: 0, count: 2 * format.samplesPerFrame)
        let none = UnsafeBufferPointer<Float>(start: nil, count: 0)
        /// Appends what `first` produced, then everything still buffered in the resampler.
        func collect(_ first: (inout UnsafeMutableBufferPointer<Float>) -> Int) {
            var n = buffer.withUnsafeMutableBufferPointer(first)
            out += buffer[0..<n]
            while n == buffer.count {
                n = buffer.withUnsafeMutableBufferPointer { resampler.process(input: none, output: $0) }
                out += buffer[0..<n]
            }
        }
        let inFrame = wav.sampleRate / 50 * wav.channels
        var offset = 0
        while offset < samples.count {
            let end = min(offset + inFrame, samples.count)
            samples[offset..<end].withUnsafeBufferPointer { i in collect { resampler.process(input: i, output: $0) } }
            offset = end
        }
        collect { resampler.flush(output: $0) }
        return out
    }

    public func process(_ tick: Tick) throws {
        if output.ended { return }
        if stopOnLive {
            control.forEach { event in
                switch event {
                case .linkState(.live), .linkState(.closed), .linkState(.failed):
                    if !fadingOut { log.info("stopping greeting: \(event)") }
                    fadingOut = true
                default: break
                }
            }
        }
        let n = output.pcmFormat.samplesPerFrame
        if position >= audio.count {
            if loops && !fadingOut && tick.index < maxTicks { position = 0 } else { output.finish(); return }
        }
        output.write { out in
            for i in 0..<n {
                let j = position + i
                var v: Float = j < audio.count ? audio[j] : 0
                if fadingOut { v *= Float(n - i) / Float(n) }
                out[i] = v
            }
        }
        position += n
        // This tick's frame (already faded) is still delivered; the stream ends after it.
        if fadingOut { output.finish() }
    }
}
