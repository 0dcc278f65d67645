import Codecs
import Foundation
import Nodes
import RouterCore
import Synchronization
import XCTest

/// Paths of the repository this test file lives in.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let python = root.appendingPathComponent(".venv/bin/python")
    static let peer = root.appendingPathComponent("Tests/peers/personaplex_peer.py")
    static let pipeline = root.appendingPathComponent("pipelines/personaplex-file.yaml")
}

/// The model-free PersonaPlex peer (sphn 0.1.12 + aiohttp) as a child process on a free loopback port.
final class SphnPeer {
    let port: Int
    private let process = Process()
    private let lines = LineCollector()

    init(_ arguments: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Repo.python.path) else {
            throw NodeError("\(Repo.python.path) is missing: run `bash scripts/setup.sh --with-peers` (make test does)")
        }
        process.executableURL = Repo.python
        process.arguments = ["-u", Repo.peer.path, "--host", "127.0.0.1", "--port", "0"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let lines = self.lines
        pipe.fileHandleForReading.readabilityHandler = { handle in lines.append(handle.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while true {
            if let line = lines.all.first(where: { $0.hasPrefix("READY port=") }), let p = Int(line.dropFirst(11)) {
                port = p
                break
            }
            guard process.isRunning, Date() < deadline else {
                process.terminate()
                throw NodeError("the PersonaPlex peer did not start")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    var url: String { "ws://127.0.0.1:\(port)/api/chat" }

    /// One STATS object per finished session.
    var stats: [[String: Any]] {
        lines.all.compactMap { line in
            guard line.hasPrefix("STATS ") else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any]
        }
    }

    func waitForStats(_ count: Int, timeout: Double = 10) -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        while stats.count < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return stats
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

final class LineCollector: Sendable {
    private let state = Mutex<(buffer: Data, lines: [String])>((Data(), []))

    func append(_ data: Data) {
        state.withLock { state in
            state.buffer.append(data)
            while let nl = state.buffer.firstIndex(of: 0x0A) {
                state.lines.append(String(decoding: state.buffer[state.buffer.startIndex..<nl], as: UTF8.self))
                state.buffer.removeSubrange(state.buffer.startIndex...nl)
            }
        }
    }

    var all: [String] { state.withLock { $0.lines } }
}

func stat(_ s: [String: Any], _ key: String) -> Int { (s[key] as? NSNumber)?.intValue ?? -1 }

/// Builds a session from the shipped personaplex-file pipeline with `variables` as its environment.
func personaPlexSession(_ variables: [String: String]) throws -> Session {
    let yaml = try String(contentsOf: Repo.pipeline, encoding: .utf8)
    let pipeline = try PipelineValidator(registry: .standard).validate(
        yaml: yaml, file: Repo.pipeline.path, environment: PipelineEnvironment(variables))
    return Session(graph: try Graph(pipeline))
}

/// A speech-like mono WAV: harmonics of a gliding fundamental with syllable-rate AM and pauses.
func writeSpeechLikeWAV(_ path: String, seconds: Double, rate: Int = 48_000) throws {
    let n = Int(seconds * Double(rate))
    var samples = [Float](repeating: 0, count: n)
    var phase = 0.0
    for i in 0..<n {
        let t = Double(i) / Double(rate)
        phase += 2 * .pi * (150 + 40 * sin(2 * .pi * 0.5 * t)) / Double(rate)
        var v = 0.0
        for h in 1...5 { v += sin(phase * Double(h)) / Double(h) }
        samples[i] = Float(0.25 * max(0, sin(2 * .pi * 1.5 * t)) * v)
    }
    let writer = try WAVWriter(path: path, format: WAVFormat(sampleRate: rate, channels: 1, encoding: .pcm16))
    try samples.withUnsafeBufferPointer { try writer.write($0) }
    try writer.close()
}

/// Mono samples of a WAV file (channels averaged).
func readMono(_ path: String) throws -> (samples: [Float], rate: Int) {
    let (format, data) = try WAVReader.read(path: path)
    var mono = [Float](repeating: 0, count: data.count / format.channels)
    for i in 0..<mono.count {
        var acc: Float = 0
        for c in 0..<format.channels { acc += data[i * format.channels + c] }
        mono[i] = acc / Float(format.channels)
    }
    return (mono, format.sampleRate)
}

/// Best normalised cross-correlation of `b` against `a` over lags 0...maxLag (b delayed), and that lag; lags with
/// fewer than `minOverlap` overlapping samples are skipped.
func bestCorrelation(_ a: [Float], _ b: [Float], maxLag: Int, step: Int = 1, minOverlap: Int = 1000) -> (
    value: Double, lag: Int
) {
    var best = (value: -1.0, lag: 0)
    var lag = 0
    while lag <= maxLag {
        let n = min(a.count, b.count - lag)
        if n > minOverlap {
            var ab = 0.0, aa = 0.0, bb = 0.0
            for i in 0..<n {
                let x = Double(a[i]), y = Double(b[i + lag])
                ab += x * y
                aa += x * x
                bb += y * y
            }
            let c = ab / max(1e-12, (aa * bb).squareRoot())
            if c > best.value { best = (c, lag) }
        }
        lag += step
    }
    return best
}

/// Shared set-up for bridge tests: a temporary folder, a small bridge graph, and a real-time runner.
class BridgeTestCase: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "bridge-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A small bridge graph: WAV mic -> 24 kHz mono -> Ogg Opus -> link -> decode -> WAV, captions to a file.
    func bridgeYAML(
        name: String = "ai", url: String, extra: String = "", voice: String = "NATF0.pt",
        prompt: String = "You are a test.", input: String, loop: Bool = false, tail: String = "1s"
    ) -> String {
        """
        nodes:
          mic:    {type: WavIn, path: "\(input)", loop: \(loop), tail: \(tail)}
          down:   {type: Resample, rate: 24000, channels: 1}
          encode: {type: OpusOggEncode, rate: 24000, channels: 1}
          \(name): {type: PersonaPlexLink, url: "\(url)", text_prompt: "\(prompt)", voice_prompt: "\(voice)"\(extra)}
          decode: {type: Decode, rate: 24000, channels: 1, prebuffer: 100ms, apply_pre_skip: false}
          out:    {type: WavTap, path: "\(dir!)/\(name)-out.wav"}
          text:   {type: TextRelay, sink: file, path: "\(dir!)/\(name)-captions.txt", timestamps: false}
        links:
          - mic -> down -> encode -> \(name).audio
          - \(name).audio -> decode -> out
          - \(name).text -> text
          - \(name).events -> encode.control
        """
    }

    func session(_ yaml: String) throws -> Session {
        let pipeline = try PipelineValidator(registry: .standard).validate(
            yaml: yaml, file: "bridge.yaml", environment: PipelineEnvironment([:]))
        return Session(graph: try Graph(pipeline))
    }

    /// Runs a session on its own thread in real time and returns the outcome (bounded by `seconds`).
    func run(_ session: Session, seconds: Double) -> SessionOutcome {
        let outcome = OutcomeBox()
        let done = expectation(description: "session ended")
        Thread {
            outcome.set(session.run(realtime: true, maxTicks: Int64(seconds * 50)))
            done.fulfill()
        }.start()
        wait(for: [done], timeout: seconds + 30)
        return outcome.value
    }

}

/// The outcome of a session run on another thread, handed back under a lock.
final class OutcomeBox: Sendable {
    private let outcome = Mutex<SessionOutcome>(.stopped)
    func set(_ value: SessionOutcome) { outcome.withLock { $0 = value } }
    var value: SessionOutcome { outcome.withLock { $0 } }
}
