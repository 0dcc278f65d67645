import Foundation
import XCTest

@testable import Codecs

final class WAVFileTests: XCTestCase {
    private func roundTrip(_ format: WAVFormat, frames: Int, dir: URL) throws -> (
        input: [Float], output: [Float], path: String
    ) {
        let path = dir.appendingPathComponent("\(format.encoding)-\(format.channels).wav").path
        let input = harmonicSignal(
            sampleRate: format.sampleRate, frames: frames, channels: format.channels, amplitude: 0.9)
        let writer = try WAVWriter(path: path, format: format)
        try input.withUnsafeBufferPointer { all in
            // Written in uneven pieces to exercise streaming.
            var start = 0
            while start < all.count {
                let end = min(all.count, start + format.channels * 777)
                try writer.write(UnsafeBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
        try writer.close()
        let (readFormat, output) = try WAVReader.read(path: path)
        XCTAssertEqual(readFormat, format)
        return (input, output, path)
    }

    func testRoundTripsEveryEncoding() throws {
        let dir = try temporaryDirectory(self)
        let tolerances: [WAVSampleEncoding: Float] = [
            .pcm8: 1 / 128, .pcm16: 0.5 / 32768, .pcm24: 0.5 / 8_388_608,
            .pcm32: 1e-7, .float32: 0, .float64: 0,
        ]
        for encoding in WAVSampleEncoding.allCases {
            for channels in [1, 2, 6] {
                let format = WAVFormat(sampleRate: 44_100, channels: channels, encoding: encoding)
                let (input, output, _) = try roundTrip(format, frames: 3001, dir: dir)
                XCTAssertEqual(output.count, input.count)
                let worst = zip(input, output).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, tolerances[encoding]! * 1.0001, "\(encoding) x\(channels)")
            }
        }
    }

    func testSoxReadsWrittenFiles() throws {
        guard let sox = toolPath("sox") else { throw XCTSkip("sox not installed (run scripts/setup.sh)") }
        let dir = try temporaryDirectory(self)
        for encoding in [WAVSampleEncoding.pcm16, .pcm24, .float32] {
            let (_, _, path) = try roundTrip(
                WAVFormat(sampleRate: 24_000, channels: 2, encoding: encoding), frames: 2400, dir: dir)
            let info = try runTool(sox, ["--i", path])
            XCTAssertEqual(info.status, 0, info.output)
            XCTAssertTrue(info.output.contains("24000"), info.output)
            XCTAssertTrue(info.output.contains("00:00:00.10"), info.output)
        }
    }

    func testStreamingReadIn20msFrames() throws {
        let dir = try temporaryDirectory(self)
        let format = WAVFormat(sampleRate: 48_000, channels: 2, encoding: .pcm16)
        let (_, whole, path) = try roundTrip(format, frames: 48_000 + 100, dir: dir)
        let reader = try WAVReader(path: path)
        XCTAssertEqual(reader.frameCount, 48_100)
        var frame = [Float](repeating: 0, count: 960 * 2)
        var collected: [Float] = []
        var calls = 0
        while true {
            let n = try frame.withUnsafeMutableBufferPointer { try reader.read(into: $0) }
            if n == 0 { break }
            collected += frame[0..<(n * 2)]
            calls += 1
        }
        XCTAssertEqual(calls, 51)
        XCTAssertEqual(collected, whole)
        XCTAssertEqual(reader.remainingFrames, 0)
    }

    // MARK: malformed files

    private func write(_ bytes: [UInt8], _ name: String, _ dir: URL) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    private func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    private func fmtChunk(tag: Int, channels: Int = 1, rate: Int = 8000, bits: Int = 16, extra: [UInt8] = []) -> [UInt8]
    {
        let block = channels * bits / 8
        let body = le16(tag) + le16(channels) + le32(rate) + le32(rate * block) + le16(block) + le16(bits) + extra
        return Array("fmt ".utf8) + le32(body.count) + body
    }

    private func riff(_ chunks: [UInt8]) -> [UInt8] {
        Array("RIFF".utf8) + le32(4 + chunks.count) + Array("WAVE".utf8) + chunks
    }

    private func assertError(_ bytes: [UInt8], _ expected: CodecError, _ message: String, dir: URL, line: UInt = #line)
        throws
    {
        let path = try write(bytes, "bad-\(line).wav", dir)
        XCTAssertThrowsError(try WAVReader(path: path), line: line) { error in
            XCTAssertEqual(error as? CodecError, expected, line: line)
            XCTAssertEqual("\(error)", message, line: line)
        }
    }

    func testMalformedFilesGiveSpecificErrors() throws {
        let dir = try temporaryDirectory(self)
        let pcmFmt = fmtChunk(tag: 1)
        try assertError([], .notRIFF, "not a RIFF file", dir: dir)
        try assertError(Array("this is not audio at all".utf8), .notRIFF, "not a RIFF file", dir: dir)
        try assertError(
            Array("RIFF".utf8) + le32(4) + Array("AVI ".utf8), .notWAVE,
            "not a WAVE file (RIFF form type is not WAVE)", dir: dir)
        try assertError(riff(Array("LIST".utf8) + le32(4) + Array("INFO".utf8)), .noFmtChunk, "no fmt chunk", dir: dir)
        try assertError(riff(Array("data".utf8) + le32(2) + [0, 0]), .noFmtChunk, "no fmt chunk", dir: dir)
        try assertError(riff(pcmFmt), .noDataChunk, "no data chunk", dir: dir)
        try assertError(
            riff(fmtChunk(tag: 0x55)), .unsupportedFormatTag(0x55),
            "unsupported WAV format tag 0x0055 (supported: 0x0001 PCM, 0x0003 float, 0xFFFE extensible)", dir: dir)
        let mp3Extensible =
            le16(22) + le16(16) + le32(4) + le16(0x55)
            + [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        try assertError(
            riff(fmtChunk(tag: 0xFFFE, extra: mp3Extensible)), .unsupportedFormatTag(0x55),
            "unsupported WAV format tag 0x0055 (supported: 0x0001 PCM, 0x0003 float, 0xFFFE extensible)", dir: dir)
        try assertError(
            riff(fmtChunk(tag: 1, bits: 12)), .unsupportedBitsPerSample(bits: 12, formatTag: 1),
            "unsupported WAV sample width 12 bits for format tag 0x0001 (PCM: 8/16/24/32, float: 32/64)", dir: dir)
        try assertError(
            riff(Array("fmt ".utf8) + le32(8) + [1, 0, 1, 0, 0x40, 0x1F, 0, 0]), .fmtChunkTooShort(8),
            "fmt chunk too short: 8 bytes", dir: dir)
        try assertError(
            riff(pcmFmt + Array("data".utf8) + le32(1000) + [UInt8](repeating: 0, count: 100)),
            .dataChunkTruncated(expected: 1000, found: 100), "data chunk truncated: expected 1000 bytes, found 100",
            dir: dir)
        // A valid minimal file still opens, with a skipped unknown chunk before the data.
        let good = try write(
            riff(
                Array("junk".utf8) + le32(3) + [1, 2, 3, 0] + pcmFmt + Array("data".utf8) + le32(4) + [
                    0, 0x40, 0, 0xC0,
                ]),
            "good.wav", dir)
        let (format, samples) = try WAVReader.read(path: good)
        XCTAssertEqual(format, WAVFormat(sampleRate: 8000, channels: 1, encoding: .pcm16))
        XCTAssertEqual(samples, [0.5, -0.5])
        // A streamed file whose sizes were never patched (0 or 0xFFFFFFFF) reads to the end of the file.
        for placeholder in [0, 0xFFFF_FFFF] {
            let unpatched = try write(
                Array("RIFF".utf8) + le32(placeholder) + Array("WAVE".utf8) + pcmFmt + Array("data".utf8)
                    + le32(placeholder) + [0, 0x40, 0, 0xC0, 0, 0x20], "unpatched-\(placeholder).wav", dir)
            XCTAssertEqual(try WAVReader.read(path: unpatched).samples, [0.5, -0.5, 0.25])
        }
        XCTAssertThrowsError(try WAVReader(path: dir.appendingPathComponent("missing.wav").path)) {
            guard case CodecError.io = $0 else { return XCTFail("\($0)") }
        }
    }
}
