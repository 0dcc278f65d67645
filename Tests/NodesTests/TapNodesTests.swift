import Foundation
import Nodes
import RouterCore
import XCTest

/// The taps on their own: what they record or measure is what passed on the edge.
final class TapNodesTests: XCTestCase {
    override func setUp() { quietLog(self) }

    func testOggTapRecordsByteForByte() throws {
        let dir = try TestFiles.directory(self)
        let path = dir.appendingPathComponent("sub/tap.opus").path  // the folder is created
        let h = try NodeHarness<OggTap>(params: ["path": path], inputs: ["in": MediaFormat(.ogg)])
        var rng = Signal.Random(seed: 8)
        var expected: [UInt8] = []
        for t in 0..<40 {
            for _ in 0..<(t % 3) {
                let item = (0..<(1 + rng.int(300))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                h.packetInput().append(item)
                expected += item
            }
            try h.tick()
        }
        try h.finish()
        XCTAssertEqual(try TestFiles.bytes(path), expected)
    }

    func testMeterReadsRMSAndPeak() throws {
        let h = try NodeHarness<Meter>(params: ["interval": "200ms"], inputs: ["in": .pcm(.personaPlex)])
        let tone = Signal.tone(1000, rate: 24_000, frames: 4_800, amplitude: 0.5)
        for (t, frame) in frames(of: tone, samplesPerFrame: 480).enumerated() {
            if t != 4 { h.pcmInput().write { _ = $0.update(fromContentsOf: frame) } }  // one tick without signal
            try h.tick()
        }
        let reading = try XCTUnwrap(h.node.lastReading)
        XCTAssertEqual(reading.rms, 20 * log10(0.5 / 2.0.squareRoot()), accuracy: 0.05, "sine RMS = peak / √2")
        XCTAssertEqual(reading.peak, 20 * log10(0.5), accuracy: 0.01)
        XCTAssertEqual(Meter.dBFS(0), -.infinity)
    }

    func testLogTapIsRateLimited() throws {
        let h = try NodeHarness<LogTap>(
            params: ["kind": "ogg", "max_per_second": "5"], inputs: ["in": MediaFormat(.ogg)])
        for _ in 0..<100 {  // 2 s, 20 items per tick
            for i in 0..<20 { h.packetInput().append([UInt8(i), 1, 2, 3]) }
            try h.tick()
        }
        XCTAssertEqual(h.node.written, 10, "5 lines per second")
        XCTAssertEqual(h.node.suppressedTotal, 2_000 - 10)
    }

    /// Taps whose files cannot be created (a folder's path) or written (/dev/full: "no space left") log the error once
    /// with the path, count it, and stop recording; the session completes and its output is byte-identical.
    func testTapIOErrorsNeverDisturbTheFlow() throws {
        let dir = try TestFiles.directory(self)
        let input = dir.appendingPathComponent("speech.wav").path
        try TestFiles.writeWAV(
            input, Signal.speechLike(rate: 48_000, frames: 96_000, channels: 2), rate: 48_000, channels: 2)
        let chain = """
            nodes:
              source: {type: WavIn, path: "\(input)", pace: fast}
              down:   {type: Resample, rate: 24000, channels: 1}
              encode: {type: OpusOggEncode, rate: 24000, channels: 1, serial: 99}
              decode: {type: Decode, rate: 24000, channels: 1}
              sink:   {type: WavOut, path: "${OUT}"}
            links:
              - source -> down -> encode -> decode -> sink

            """
        let taps = """
              - down -> wav_folder
              - down -> wav_full
              - encode -> ogg_folder
              - encode -> ogg_full
            """
        let tapNodes = """
              wav_folder: {type: WavTap, path: "\(dir.path)"}
              wav_full:   {type: WavTap, path: /dev/full}
              ogg_folder: {type: OggTap, path: "\(dir.path)"}
              ogg_full:   {type: OggTap, path: /dev/full}

            """
        let tapped = chain.replacingOccurrences(of: "links:\n", with: tapNodes + "links:\n") + taps + "\n"
        var outputs: [[UInt8]] = []
        var lines: [String] = []
        for (name, yaml) in [("plain", chain), ("tapped", tapped)] {
            let out = dir.appendingPathComponent("\(name).wav").path
            let pipeline = try PipelineValidator(registry: .standard).validate(
                yaml: yaml, file: "\(name).yaml",
                environment: PipelineEnvironment(["OUT": out]))
            var session: Session?
            var outcome: SessionOutcome?
            lines = try captureLog {
                session = Session(graph: try Graph(pipeline))  // the folder taps fail here, creating their files
                outcome = session?.run(realtime: false, maxTicks: 1_000)
            }
            guard let session else { return XCTFail("no session") }
            XCTAssertEqual(outcome, .completed, name)
            outputs.append(try TestFiles.bytes(out))
            guard name == "tapped" else { continue }
            let errors = Dictionary(uniqueKeysWithValues: session.metrics.map { ($0.nodeName, $0.errors) })
            for tap in ["wav_folder", "wav_full", "ogg_folder", "ogg_full"] {
                XCTAssertEqual(errors[tap], 1, "\(tap): one error counted")
                let logged = lines.filter { $0.hasPrefix("[error] \(tap):") }
                XCTAssertEqual(logged.count, 1, "\(tap) logs once: \(lines)")
                XCTAssertTrue(logged.first?.contains("tap stops recording") == true, "\(logged)")
            }
            for tap in ["wav_folder", "ogg_folder"] {
                let line = lines.first { $0.hasPrefix("[error] \(tap):") } ?? ""
                XCTAssertTrue(line.contains(dir.path) && line.contains(String(cString: strerror(EISDIR))), line)
            }
            for tap in ["wav_full", "ogg_full"] {
                let line = lines.first { $0.hasPrefix("[error] \(tap):") } ?? ""
                XCTAssertTrue(line.contains("/dev/full") && line.contains(String(cString: strerror(ENOSPC))), line)
            }
            XCTAssertFalse((session.graph.node(named: "wav_full") as! WavTap).isRecording)
            XCTAssertFalse((session.graph.node(named: "ogg_full") as! OggTap).isRecording)
            for other in ["source", "down", "encode", "decode", "sink"] { XCTAssertEqual(errors[other], 0, other) }
        }
        XCTAssertGreaterThan(outputs[0].count, 40_000)
        XCTAssertEqual(outputs[0], outputs[1], "the output is byte-identical with and without the failing taps")
    }
}
