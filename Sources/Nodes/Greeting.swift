import Codecs
import RouterCore

#if canImport(Glibc)
    import Glibc
#endif

/// Plays a greeting, then ends: a melody (by default the first two phrases of Ode to Joy as seed 000 writes them;
/// sine tones with an attack/release envelope; notation in `parseMelody`) or a WAV file. Optionally plays while a
/// link warms up and stops (with a short fade) when it goes live.
public final class Greeting: NodeType {
    public static let typeName = "Greeting"
    public static let summary = "Play Ode to Joy (or a WAV file) once, or until a link goes live; then end."
    private enum Param {
        static let rate: ParameterKey<Int> = .sampleRate("rate", default: 48_000, "Output sample rate.")
        static let channels: ParameterKey<Int> = .int("channels", 1...8, default: 2, "Output channel count.")
        static let file: ParameterKey<String?> = .optionalPath(
            "file", "A WAV file to play instead of the melody (any rate/channels).")
        static let volume: ParameterKey<Double> = .double(
            "volume", 0...1, default: 0.3,
            "Peak amplitude of the melody (0...1).")
        static let tempo: ParameterKey<Double> = .double(
            "tempo_bpm", 30...400, default: 150,
            "Melody tempo in beats per minute.")
        static let melody: ParameterKey<String> = .string(
            "melody", default: Greeting.odeToJoy,
            "Notes separated by spaces: letter A-G, optional # or b, octave 0-8, each trailing '-' adds half a beat (E4-- D4---)."
        )
        static let stopOnLive: ParameterKey<Bool> = .bool(
            "stop_on_live", default: false, "Stop when the control input reports the link live (or closed/failed).")
        static let loop: ParameterKey<Bool> = .bool(
            "loop", default: false,
            "Repeat until stopped by the control input (needs stop_on_live).")
        static let maxDuration: ParameterKey<Double> = .duration(
            "max_duration", default: 120,
            "Give up looping after this long.")
    }
    public static let parameters = [
        Param.rate.spec, Param.channels.spec, Param.file.spec, Param.volume.spec, Param.tempo.spec, Param.melody.spec,
        Param.stopOnLive.spec, Param.loop.spec, Param.maxDuration.spec,
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        let format = PCMFormat(sampleRate: params[Param.rate], channels: params[Param.channels])
        return PortLayout(
            inputs: [InputSpec("control", .event, required: false, doc: "Link state events (with stop_on_live).")],
            outputs: [OutputSpec("out", .pcm(format), doc: "The greeting audio; ends when done.")])
    }

    public static func check(_ params: Parameters) -> [NodeCheckProblem] {
        var problems: [NodeCheckProblem] = []
        if params[Param.loop] && !params[Param.stopOnLive] {
            problems.append(
                NodeCheckProblem(
                    "loop", "loop: true needs stop_on_live: true, or the greeting would never end",
                    hint:
                        "add 'stop_on_live: true' and link a link's events to this node's control input, or drop 'loop'"
                ))
        }
        if let path = params[Param.file] {
            do { _ = try WAVReader(path: path) } catch {
                problems.append(
                    NodeCheckProblem(
                        "file", "cannot play '\(path)': \(error)",
                        hint: "give an existing 16/24/32-bit PCM or float WAV file, or drop 'file' to play the melody"))
            }
        } else {
            do { _ = try parseMelody(params[Param.melody]) } catch {
                problems.append(
                    NodeCheckProblem(
                        "melody", "\(error)",
                        hint: "drop 'melody' to play the default, seed 000's Ode to Joy ('\(odeToJoy)')"))
            }
        }
        return problems
    }

    /// Seed 000's melody, written exactly as the seed writes it: the first two phrases of Ode to Joy.
    public static let odeToJoy = "E4 E4 F4 G4 G4 F4 E4 D4 C4 C4 D4 E4 E4-- D4---"

    /// Reads melody notation: notes separated by spaces, each a letter `A`–`G`, an optional `#` (sharp) or `b` (flat),
    /// an octave `0`–`8` (scientific pitch: C4 is middle C, A4 is 440 Hz, equal temperament), then any number of `-`,
    /// each lengthening the note's one beat by half a beat. `E4-- D4---` is E4 for 2 beats, then D4 for 2.5.
    public static func parseMelody(_ text: String) throws -> [MelodyNote] {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "," })
        guard !tokens.isEmpty else { throw NodeError("melody has no notes; write notes like 'E4 F#4 G4--'") }
        return try tokens.enumerated().map { index, token in
            guard let note = MelodyNote(token) else {
                throw NodeError(
                    "melody note \(index + 1), '\(token)', is not a note: write a letter A-G, an optional # or b, "
                        + "an octave 0-8 and optional '-' (half a beat each), e.g. E4, F#3, Bb4--")
            }
            return note
        }
    }

    /// Renders notes as Float32 interleaved PCM: sine tones, 10 ms attack, 60 ms release, no clicks.
    public static func renderMelody(_ notes: [MelodyNote], format: PCMFormat, volume: Double, tempoBPM: Double)
        -> [Float]
    {
        let rate = Double(format.sampleRate)
        let beat = 60 / tempoBPM
        var out: [Float] = []
        for note in notes {
            let n = Int(note.beats * beat * rate)
            let attack = Int(0.010 * rate), release = Int(0.060 * rate)
            for i in 0..<n {
                var envelope = 1.0
                if i < attack { envelope = Double(i) / Double(attack) }
                if i > n - release { envelope = min(envelope, Double(n - i) / Double(release)) }
                let v = Float(volume * envelope * sin(2 * .pi * note.frequency * Double(i) / rate))
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
        stopOnLive = p[Param.stopOnLive]
        loops = p[Param.loop]
        maxTicks = Tick.count(seconds: p[Param.maxDuration])
        log = setup.log
        let format = output.pcmFormat
        if let path = p[Param.file] {
            audio = try Self.loadWAV(path, as: format)
        } else {
            audio = Self.renderMelody(
                try Self.parseMelody(p[Param.melody]), format: format,
                volume: p[Param.volume], tempoBPM: p[Param.tempo])
        }
    }

    /// Reads a WAV file and converts it to `format` with the speexdsp resampler, time-aligned (filter delay skipped)
    /// and complete (the filter tail flushed at the end).
    static func loadWAV(_ path: String, as format: PCMFormat) throws -> [Float] {
        let (wav, samples) = try WAVReader.read(path: path)
        if wav.sampleRate == format.sampleRate && wav.channels == format.channels { return samples }
        let resampler = try Resampler(
            inputRate: wav.sampleRate, inputChannels: wav.channels,
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
        let inFrame = wav.sampleRate / Tick.perSecond * wav.channels
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
            if loops && !fadingOut && tick.index < maxTicks {
                position = 0
            } else {
                output.finish()
                return
            }
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

/// One note of a melody: its pitch and its length in beats.
public struct MelodyNote: Equatable, Sendable {
    public var frequency: Double
    public var beats: Double

    public init(frequency: Double, beats: Double) {
        self.frequency = frequency
        self.beats = beats
    }

    /// Reads one note in `Greeting.parseMelody` notation (`E4`, `F#3`, `Bb4--`); nil when it is not one.
    init?<S: StringProtocol>(_ token: S) {
        var characters = Array(token.unicodeScalars)
        let semitones: [Character: Int] = ["C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11]
        guard !characters.isEmpty, let letter = semitones[Character(characters.removeFirst())] else { return nil }
        var semitone = letter
        if characters.first == "#" {
            semitone += 1
            characters.removeFirst()
        } else if characters.first == "b" {
            semitone -= 1
            characters.removeFirst()
        }
        guard let digit = characters.first, let octave = Int(String(digit)), (0...8).contains(octave) else {
            return nil
        }
        characters.removeFirst()
        guard characters.allSatisfy({ $0 == "-" }) else { return nil }
        let midi = (octave + 1) * 12 + semitone
        frequency = 440 * pow(2, Double(midi - 69) / 12)
        beats = 1 + 0.5 * Double(characters.count)
    }
}
