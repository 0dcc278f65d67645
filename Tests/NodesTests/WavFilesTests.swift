import Codecs
import Foundation
import Nodes
import RouterCore
import XCTest

final class WavFilesTests: XCTestCase {
    override func setUp() { quietLog(self) }

    private func copy(
        _ input: String, _ output: String, inParams: String = "", outEncoding: String = "pcm16",
        maxTicks: Int? = nil
    ) throws {
        let yaml = """
            nodes:
              src: {type: WavIn, path: "\(input)", pace: fast\(inParams)}
              out: {type: WavOut, path: "\(output)", encoding: \(outEncoding)}
            links:
              - src -> out
            """
        let session = try EmbeddedSession(yaml: yaml, registry: NodeRegistry.standard)
        if let maxTicks { try session.tick(maxTicks) } else { try session.runUntilFinished(maxTicks: 10_000) }
        session.stop()
    }

    func testRoundTrip16BitIsByteIdentical() throws {
        let dir = try TestFiles.directory(self)
        var rng = Signal.Random(seed: 11)
        // 1 s stereo, full range
        let samples = (0..<(48_000 * 2)).map { _ in Int16(truncatingIfNeeded: rng.next() >> 40) }
        let input = TestFiles.wav16Bytes(samples, rate: 48_000, channels: 2)
        let inPath = dir.appendingPathComponent("in.wav").path, outPath = dir.appendingPathComponent("out.wav").path
        try TestFiles.write(input, inPath)
        try copy(inPath, outPath)
        let output = try TestFiles.bytes(outPath)
        let parsed = try XCTUnwrap(TestFiles.parseWAV(output))
        XCTAssertEqual(parsed.tag, 1)
        XCTAssertEqual(parsed.channels, 2)
        XCTAssertEqual(parsed.rate, 48_000)
        XCTAssertEqual(parsed.bits, 16)
        XCTAssertEqual(parsed.riffSize, output.count - 8, "RIFF size patched on close")
        XCTAssertEqual(Array(parsed.data), Array(TestFiles.parseWAV(input)!.data), "sample data byte-identical")
    }

    func testRoundTripFloatIsExact() throws {
        let dir = try TestFiles.directory(self)
        let samples = Signal.speechLike(rate: 24_000, frames: 24_000 * 2)
        let inPath = dir.appendingPathComponent("in.wav").path, outPath = dir.appendingPathComponent("out.wav").path
        try TestFiles.writeWAV(inPath, samples, rate: 24_000, channels: 1, encoding: .float32)
        try copy(inPath, outPath, outEncoding: "float32")
        let parsed = try XCTUnwrap(TestFiles.parseWAV(try TestFiles.bytes(outPath)))
        XCTAssertEqual(parsed.tag, 3)
        XCTAssertEqual(parsed.bits, 32)
        let (format, out) = try TestFiles.readWAV(outPath)
        XCTAssertEqual(format.sampleRate, 24_000)
        XCTAssertEqual(out, samples)
    }

    /// A file that is not a whole number of 20 ms frames is zero-padded to the next frame, never cut.
    func testPartialLastFrameIsPadded() throws {
        let dir = try TestFiles.directory(self)
        let samples = Signal.speechLike(rate: 48_000, frames: 48_000 + 123)
        let inPath = dir.appendingPathComponent("in.wav").path, outPath = dir.appendingPathComponent("out.wav").path
        try TestFiles.writeWAV(inPath, samples, rate: 48_000, channels: 1, encoding: .float32)
        try copy(inPath, outPath, outEncoding: "float32")
        let out = try TestFiles.readWAV(outPath).samples
        XCTAssertEqual(out.count, 48_960)
        XCTAssertEqual(Array(out.prefix(samples.count)), samples)
        XCTAssertTrue(out.suffix(48_960 - samples.count).allSatisfy { $0 == 0 })
    }

    func testTailAddsSilence() throws {
        let dir = try TestFiles.directory(self)
        let samples = Signal.tone(300, rate: 16_000, frames: 16_000, channels: 2, amplitude: 0.5)
        let inPath = dir.appendingPathComponent("in.wav").path, outPath = dir.appendingPathComponent("out.wav").path
        try TestFiles.writeWAV(inPath, samples, rate: 16_000, channels: 2, encoding: .float32)
        try copy(inPath, outPath, inParams: ", tail: 500ms", outEncoding: "float32")
        let out = try TestFiles.readWAV(outPath).samples
        XCTAssertEqual(out.count, samples.count + 8_000 * 2, "0.5 s of silence after the file")
        XCTAssertEqual(Array(out.prefix(samples.count)), samples)
        XCTAssertTrue(out.suffix(16_000).allSatisfy { $0 == 0 })
    }

    /// loop restarts seamlessly at the end of the file (even mid-frame) and never ends by itself.
    func testLoopIsSeamless() throws {
        let dir = try TestFiles.directory(self)
        let samples = Signal.speechLike(rate: 24_000, frames: 24_000 + 240)  // 1.01 s: the loop point falls mid-frame
        let inPath = dir.appendingPathComponent("in.wav").path, outPath = dir.appendingPathComponent("out.wav").path
        try TestFiles.writeWAV(inPath, samples, rate: 24_000, channels: 1, encoding: .float32)
        try copy(inPath, outPath, inParams: ", loop: true", outEncoding: "float32", maxTicks: 180)
        let out = try TestFiles.readWAV(outPath).samples
        XCTAssertEqual(out.count, 180 * 480)
        var mismatches = 0
        for i in 0..<out.count where out[i] != samples[i % samples.count] { mismatches += 1 }
        XCTAssertEqual(mismatches, 0, "output is the file repeated without gaps")
    }

    /// WavTap keeps the session's timeline (gaps become silence); WavOut skips them.
    func testWavTapWritesSilenceForGapsAndWavOutSkipsThem() throws {
        let dir = try TestFiles.directory(self)
        let format = PCMFormat(sampleRate: 16_000, channels: 1)
        let pattern = [true, false, true, false, false, true, true]
        var results: [String: [Float]] = [:]
        for type in ["WavTap", "WavOut"] {
            let path = dir.appendingPathComponent("\(type).wav").path
            func run<N: NodeType>(_: N.Type) throws {
                let h = try NodeHarness<N>(params: ["path": path, "encoding": "float32"], inputs: ["in": .pcm(format)])
                for (t, present) in pattern.enumerated() {
                    if present { h.pcmInput().write { $0.update(repeating: Float(t + 1) / 10) } }
                    try h.tick()
                }
                h.endInput()
                try h.tick()
                try h.tick()
                try h.finish()
            }
            if type == "WavTap" { try run(WavTap.self) } else { try run(WavOut.self) }
            results[type] = try TestFiles.readWAV(path).samples
        }
        let tap = try XCTUnwrap(results["WavTap"]), out = try XCTUnwrap(results["WavOut"])
        XCTAssertEqual(tap.count, pattern.count * 320, "one frame per tick, nothing after the end")
        for (t, present) in pattern.enumerated() {
            let frame = tap[(t * 320)..<((t + 1) * 320)]
            XCTAssertTrue(frame.allSatisfy { $0 == (present ? Float(t + 1) / 10 : 0) }, "tick \(t)")
        }
        XCTAssertEqual(out.count, pattern.filter { $0 }.count * 320)
    }

    /// Broken WAV files are reported by the node check (what `router check` prints) with the path and the reason,
    /// and the pipeline is rejected with that message; nothing crashes.
    func testBrokenFilesGiveClearCheckMessages() throws {
        let dir = try TestFiles.directory(self)
        var rng = Signal.Random(seed: 1)
        let good = TestFiles.wav16Bytes((0..<16_000).map { Int16($0 % 300) }, rate: 16_000, channels: 1)
        var truncatedHeader = good
        truncatedHeader[40] = 0xFF  // data size larger than the file
        truncatedHeader[41] = 0xFF
        let cases: [(name: String, bytes: [UInt8]?, expected: String)] = [
            ("garbage.wav", (0..<4_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, "not a RIFF file"),
            ("empty.wav", [], "not a RIFF file"),
            ("cut-in-header.wav", Array(good.prefix(30)), "fmt"),
            ("truncated.wav", Array(truncatedHeader.prefix(2_000)), "truncated"),
            ("text.wav", Array("RIFF....WAVEhello".utf8), "chunk"),
            (
                "rate11025.wav", TestFiles.wav16Bytes([0, 1, 2, 3], rate: 11_025, channels: 1),
                "cannot be cut into 20 ms frames"
            ),
            ("missing.wav", nil, "cannot open"),
        ]
        for c in cases {
            let path = dir.appendingPathComponent(c.name).path
            if let bytes = c.bytes { try TestFiles.write(bytes, path) }
            let problems = WavIn.check(Parameters(["path": .string(path)]))
            XCTAssertEqual(problems.count, 1, c.name)
            XCTAssertEqual(problems.first?.parameter, "path", c.name)
            let message = problems.first?.message ?? ""
            XCTAssertTrue(message.contains(path), "\(c.name): names the file: \(message)")
            XCTAssertTrue(message.contains(c.expected), "\(c.name): says why: \(message)")
            let yaml = """
                nodes:
                  src: {type: WavIn, path: "\(path)"}
                  out: {type: WavOut, path: "\(dir.path)/never.wav"}
                links:
                  - src -> out
                """
            XCTAssertThrowsError(try EmbeddedSession(yaml: yaml, registry: NodeRegistry.standard)) { error in
                XCTAssertTrue(
                    "\(error)".contains(message), "\(c.name): the pipeline is rejected with the check message: \(error)"
                )
            }
            XCTAssertThrowsError(try NodeHarness<WavIn>(params: ["path": path]))
        }
        XCTAssertTrue(WavIn.check(Parameters(["path": .string("")])).first?.message.contains("empty") == true)
    }

    /// A header's rate and channel count size every frame the graph allocates: absurd values are refused by the check
    /// (a 2 GHz or 60,000-channel header would otherwise ask for gigabytes per 20 ms frame when the pipeline starts).
    func testAbsurdRateOrChannelCountIsRefused() throws {
        let dir = try TestFiles.directory(self)
        /// A PCM header with `bits`-bit samples and two frames of silence, sized with wide arithmetic.
        func header(rate: UInt32, channels: UInt16, bits: UInt16) -> [UInt8] {
            var b: [UInt8] = []
            func u32(_ v: UInt32) { for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
            func u16(_ v: UInt16) {
                b.append(UInt8(v & 0xff))
                b.append(UInt8(v >> 8))
            }
            let blockAlign = UInt32(channels) * UInt32(bits / 8)
            let dataBytes = 2 * blockAlign
            b += Array("RIFF".utf8)
            u32(36 + dataBytes)
            b += Array("WAVE".utf8)
            b += Array("fmt ".utf8)
            u32(16)
            u16(1)
            u16(channels)
            u32(rate)
            u32(UInt32(truncatingIfNeeded: UInt64(rate) * UInt64(blockAlign)))
            u16(UInt16(blockAlign))
            u16(bits)
            b += Array("data".utf8)
            u32(dataBytes)
            return b + [UInt8](repeating: 0x80, count: Int(dataBytes))
        }
        let cases: [(name: String, bytes: [UInt8], expected: String)] = [
            (
                "2ghz.wav", header(rate: 2_000_000_000, channels: 1, bits: 16),
                "2000000000 Hz is outside 8000...192000 Hz"
            ),
            ("50hz.wav", header(rate: 50, channels: 1, bits: 16), "50 Hz is outside 8000...192000 Hz"),
            ("60000ch.wav", header(rate: 48_000, channels: 60_000, bits: 8), "60000 channels; WavIn plays at most 32"),
        ]
        for c in cases {
            let path = dir.appendingPathComponent(c.name).path
            try TestFiles.write(c.bytes, path)
            let problems = WavIn.check(Parameters(["path": .string(path)]))
            XCTAssertEqual(problems.map(\.message), ["\(path): \(c.expected)"], c.name)
            XCTAssertThrowsError(try NodeHarness<WavIn>(params: ["path": path]), c.name)
        }
        let fine = dir.appendingPathComponent("32ch.wav").path
        try TestFiles.write(header(rate: 192_000, channels: 32, bits: 16), fine)
        XCTAssertEqual(WavIn.check(Parameters(["path": .string(fine)])).count, 0, "the limits themselves are accepted")
    }
}
