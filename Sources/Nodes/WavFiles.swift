import Codecs
import Foundation
import RouterCore

/// Plays a WAV file (16/24/32-bit PCM or float, any rate and channels) as 20 ms frames, in real time or as fast as
/// possible, optionally looping and followed by a silent tail; then ends.
public final class WavIn: NodeType {
    public static let typeName = "WavIn"
    public static let summary = "Source: play a WAV file in real time or as fast as possible, then end."
    private enum Param {
        static let path: ParameterKey<String?> = .requiredPath("path", "The WAV file to play.")
        static let pace: ParameterKey<String> = .choice(
            "pace", ["realtime", "fast"], default: "realtime",
            "fast runs the session as fast as possible (file processing).")
        static let loop: ParameterKey<Bool> = .bool(
            "loop", default: false, "Start again at the end (never ends by itself).")
        static let tail: ParameterKey<Double> = .duration(
            "tail", default: 0, "Silence to play after the file before ending.")
        static let start: ParameterKey<String> = .choice(
            "start", ["immediately", "on-live"], default: "immediately",
            "on-live: play silence until the control input reports a link live, then the file (nothing is lost while a link warms up)."
        )
    }
    public static let parameters = [
        Param.path.spec, Param.pace.spec, Param.loop.spec, Param.tail.spec, Param.start.spec,
    ]

    /// The format `out` is described with before a file is named or while it cannot be read (`router nodes`, a
    /// pipeline whose check already reports the file): the file decides the real one.
    static let probeFormat = PCMFormat(sampleRate: 48_000, channels: 2)

    public static func ports(_ params: Parameters) -> PortLayout {
        var format = probeFormat
        if let path = params[Param.path], let reader = try? WAVReader(path: path) {
            format = PCMFormat(sampleRate: reader.format.sampleRate, channels: reader.format.channels)
        }
        return PortLayout(
            inputs: [InputSpec("control", .event, required: false, doc: "Link states (with start: on-live).")],
            outputs: [OutputSpec("out", .pcm(format), doc: "The file's audio in its own rate and channel count.")])
    }

    public static func check(_ params: Parameters) -> [NodeCheckProblem] {
        guard let path = params[Param.path] else {
            return [
                NodeCheckProblem(
                    "path", "path is empty", hint: "give the WAV file to play, e.g. 'path: samples/speech-like.wav'")
            ]
        }
        do {
            let reader = try WAVReader(path: path)
            // The header sizes every frame the graph allocates: refuse values no router pipeline can carry before
            // they become a multi-gigabyte frame.
            guard ParameterType.sampleRateRange.contains(reader.format.sampleRate) else {
                let range = ParameterType.sampleRateRange
                return [
                    NodeCheckProblem(
                        "path",
                        "\(path): \(reader.format.sampleRate) Hz is outside "
                            + "\(range.lowerBound)...\(range.upperBound) Hz",
                        hint: "convert the file to a common rate, e.g. sox in.wav -r 48000 out.wav")
                ]
            }
            guard reader.format.channels <= maxChannels else {
                return [
                    NodeCheckProblem(
                        "path",
                        "\(path): \(reader.format.channels) channels; WavIn plays at most "
                            + "\(maxChannels)", hint: "mix the file down, e.g. sox in.wav -c 2 out.wav")
                ]
            }
            guard reader.format.sampleRate % Tick.perSecond == 0 else {
                return [
                    NodeCheckProblem(
                        "path", "\(path): \(reader.format.sampleRate) Hz cannot be cut into 20 ms frames",
                        hint: "convert the file to a rate that is a multiple of 50 Hz, e.g. sox in.wav -r 48000 out.wav"
                    )
                ]
            }
            return []
        } catch {
            return [
                NodeCheckProblem(
                    "path", "cannot play '\(path)': \(error)",
                    hint:
                        "give an existing 16/24/32-bit PCM or float WAV file; relative paths start at the current folder"
                )
            ]
        }
    }

    /// The most channels a played file may have (beyond any speaker layout WAVE_FORMAT_EXTENSIBLE names).
    public static let maxChannels = 32

    public static func pacing(_ params: Parameters) -> PacingPreference {
        params[Param.pace] == "fast" ? .fast : .indifferent
    }

    private var reader: WAVReader
    private let path: String
    private let output: PCMLane
    private let loops: Bool
    private var tailTicks: Int
    private var fileEnded = false
    private let control: EventInput
    private var waitingForLive: Bool

    public init(_ setup: NodeSetup) throws {
        control = setup.eventInput("control")
        waitingForLive = setup.params[Param.start] == "on-live"
        guard let path = setup.params[Param.path] else { throw NodeError("path is empty") }
        self.path = path
        reader = try WAVReader(path: path)
        output = setup.pcmOutput("out")
        loops = setup.params[Param.loop]
        tailTicks = Int(Tick.count(seconds: setup.params[Param.tail]))
        setup.log.info(
            "playing \(path): \(output.pcmFormat), \(reader.frameCount / max(1, output.pcmFormat.sampleRate / 1000)) ms"
        )
    }

    public func process(_ tick: Tick) throws {
        if waitingForLive {
            control.forEach { if case .linkState(.live) = $0 { waitingForLive = false } }
            if waitingForLive {
                output.writeSilence()
                return
            }
        }
        if !fileEnded {
            var frames = try reader.read(into: output.samples)
            if frames < output.pcmFormat.samplesPerChannel && loops {
                reader.close()
                reader = try WAVReader(path: path)
                frames += try reader.read(
                    into: UnsafeMutableBufferPointer(rebasing: output.samples[(frames * output.pcmFormat.channels)...]))
            }
            if frames > 0 {
                let used = frames * output.pcmFormat.channels
                output.write { out in UnsafeMutableBufferPointer(rebasing: out[used...]).update(repeating: 0) }
                return
            }
            fileEnded = true
        }
        if tailTicks > 0 {
            tailTicks -= 1
            output.writeSilence()
        } else {
            output.finish()
        }
    }

    public func stop() { reader.close() }
}

/// Writes one PCM stream to a WAV file; the header is finalised when the session ends.
final class WAVFileSink {
    private let writer: WAVWriter
    private let writesGaps: Bool
    private let silence: UnsafeMutableBufferPointer<Float>
    private let log: Logger
    private var closed = false
    var path: String { writer.path }

    init(path: String, format: PCMFormat, encoding: WAVSampleEncoding, writesGaps: Bool, log: Logger) throws {
        try createParentDirectory(of: path)
        writer = try WAVWriter(
            path: path, format: WAVFormat(sampleRate: format.sampleRate, channels: format.channels, encoding: encoding))
        self.writesGaps = writesGaps
        silence = .allocate(capacity: format.samplesPerFrame)
        silence.initialize(repeating: 0)
        self.log = log
    }

    deinit { silence.deallocate() }

    /// Writes this tick's frame; a tick without one is written as silence when gaps are kept (until `ended`).
    func consume(_ frame: UnsafeBufferPointer<Float>?, ended: Bool = false) throws {
        if let frame {
            try writer.write(frame)
        } else if writesGaps && !ended {
            try writer.write(UnsafeBufferPointer(silence))
        }
    }

    /// Finalises the header and closes the file (once); logs what was written.
    func close() throws {
        guard !closed else { return }
        closed = true
        try writer.close()
        log.info("wrote \(writer.path) (\(writer.framesWritten / max(1, writer.format.sampleRate / 1000)) ms)")
    }
}

/// What WavOut and WavTap share: a PCM input written to a WAV file, or per-speaker streams written to one file each
/// (when the path holds `{id}`). Subclasses differ in how they treat ticks without a frame (`writesGaps`), in what an
/// I/O error does (`survivesErrors`) and in their catalogue entry.
public class WAVSinkNode {
    enum Param {
        static let path: ParameterKey<String?> = .requiredPath(
            "path",
            "The WAV file to write (replaced if it exists). With {id} in it (out/speaker-{id}.wav) the input takes "
                + "per-speaker streams and each speaker gets a file, {id} being their id.")
        static let encoding: ParameterKey<String> = .choice(
            "encoding", ["pcm16", "float32"], default: "pcm16",
            "Sample encoding.")
    }
    public static let parameters = [Param.path.spec, Param.encoding.spec]

    /// The placeholder that makes the node record per-speaker streams.
    static let speakerPlaceholder = "{id}"

    public static func ports(_ params: Parameters) -> PortLayout {
        if params[Param.path]?.contains(speakerPlaceholder) == true {
            return PortLayout(inputs: [
                InputSpec("in", .pcmStreams, doc: "Per-speaker streams (e.g. DiscordIn): one file per speaker.")
            ])
        }
        return PortLayout(inputs: [
            InputSpec("in", .pcm, doc: "PCM in any format (per-speaker streams when the path holds {id}).")
        ])
    }

    /// True: a tick without a frame is written as silence (timeline kept); false: it is skipped.
    class var writesGaps: Bool { false }
    /// True for taps: a file that cannot be created or written is logged once, counted in the node's errors, and
    /// recording stops while the graph goes on. False: the error ends the session.
    class var survivesErrors: Bool { false }

    private let input: PCMInput
    private let log: Logger
    private let metrics: NodeMetrics
    /// The open file; nil once recording has stopped (or when recording per speaker).
    private var sink: WAVFileSink?
    /// The per-speaker files; nil once recording has stopped (or for a plain PCM input).
    private var speakers: SpeakerWAVFiles?
    /// Every file written (one, or one per speaker heard), for a session summary.
    public private(set) var recordedPaths: [String] = []
    /// True while the node is writing its file(s) (false after an I/O error a tap survived, or once stopped).
    public var isRecording: Bool { sink != nil || speakers != nil }

    public required init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        log = setup.log
        metrics = setup.metrics
        do {
            guard let path = setup.params[Param.path] else { throw NodeError("path is empty") }
            let encoding: WAVSampleEncoding = setup.params[Param.encoding] == "float32" ? .float32 : .pcm16
            let streams = setup.streamsInput("in")
            if let format = streams.lanes.first?.pcmFormat {
                speakers = SpeakerWAVFiles(
                    input: streams, pattern: path, placeholder: Self.speakerPlaceholder, format: format,
                    encoding: encoding, writesGaps: Self.writesGaps, log: log)
            } else {
                guard let format = input.lanes.first?.pcmFormat else { throw NodeError("input 'in' is not linked") }
                sink = try WAVFileSink(
                    path: path, format: format, encoding: encoding, writesGaps: Self.writesGaps, log: log)
                recordedPaths = [path]
            }
        } catch  where Self.survivesErrors {
            stopRecording(after: error)
        }
    }

    public func process(_ tick: Tick) throws {
        do {
            try sink?.consume(input.frame, ended: input.allEnded)
            if let speakers {
                try speakers.consume(tick)
                if speakers.paths.count > recordedPaths.count { recordedPaths = speakers.paths }
            }
        } catch  where Self.survivesErrors {
            stopRecording(after: error)
        }
    }

    public func stop() {
        let open = (sink, speakers)
        sink = nil
        speakers = nil
        do {
            try open.0?.close()
            try open.1?.close()
        } catch {
            metrics.errors += 1
            log.error("could not finish the file: \(error)")
        }
    }

    /// Logs the error once, counts it, and closes what was written so far; the graph goes on.
    private func stopRecording(after error: any Error) {
        metrics.errors += 1
        log.error("\(error); the tap stops recording, the rest of the graph goes on")
        try? sink?.close()
        try? speakers?.close()
        sink = nil
        speakers = nil
    }
}

/// Sink: writes PCM to a WAV file. Ticks without a frame are skipped, so a file round trip stays sample-aligned.
/// With `{id}` in the path it writes per-speaker streams, one file per speaker.
public final class WavOut: WAVSinkNode, NodeType {
    public static let typeName = "WavOut"
    public static let summary = "Sink: write PCM to a WAV file (ticks without a frame are skipped)."
}

/// Tap: records any PCM edge to a WAV file without disturbing it. Ticks without a frame are written as silence so the
/// recording keeps the session's timeline; an I/O error stops the recording (logged once, counted), never the graph.
/// With `{id}` in the path it records per-speaker streams, one file per speaker, each from the speaker's first frame.
public final class WavTap: WAVSinkNode, NodeType {
    public static let typeName = "WavTap"
    public static let summary =
        "Tap: record a PCM edge (or each speaker, with {id} in the path) to WAV (gaps as silence, timeline kept)."
    override class var writesGaps: Bool { true }
    override class var survivesErrors: Bool { true }
}

/// Creates the folder a sink writes into, so `out/take1.wav` works without a manual mkdir.
func createParentDirectory(of path: String) throws {
    let parent = (path as NSString).deletingLastPathComponent
    guard !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) else { return }
    do {
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    } catch {
        throw NodeError("cannot create folder '\(parent)' for '\(path)': \(error.localizedDescription)")
    }
}
