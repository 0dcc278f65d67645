import Foundation
import XCTest

@testable import Codecs

final class OggOpusWriterTests: XCTestCase {
    func testHeaderPagesAndGranulePositions() throws {
        let pcm = harmonicSignal(sampleRate: 24_000, frames: 480 * 10, channels: 1)
        let (bytes, encoder) = try makeOggOpus(
            pcm, sampleRate: 24_000, channels: 1, serial: 0xCAFE_F00D, flushLookahead: false)
        let pages = splitPages(bytes)
        XCTAssertEqual(pages.count, 13)
        // BOS page: only OpusHead.
        XCTAssertEqual(pages[0][5], 0x02)
        XCTAssertEqual(pages[0][26], 1)
        XCTAssertEqual(Array(pages[0][28..<36]), Array("OpusHead".utf8))
        let head = try pages[0][28...].withUnsafeBytes { try OpusHead.parse($0) }
        XCTAssertEqual(head, OpusHead(channels: 1, preSkip: encoder.encoder.preSkip48k, inputSampleRate: 24_000))
        XCTAssertEqual(Array(pages[1][28..<36]), Array("OpusTags".utf8))
        // Serial and granules (48 kHz units: every decoded sample, pre-skip included).
        for (index, page) in pages.enumerated() {
            let serial = page[14..<18].enumerated().reduce(UInt32(0)) {
                $0 | UInt32($1.element) << (8 * UInt32($1.offset))
            }
            XCTAssertEqual(serial, 0xCAFE_F00D)
            let granule = page[6..<14].enumerated().reduce(Int64(0)) {
                $0 | Int64($1.element) << (8 * Int64($1.offset))
            }
            let expected = index < 2 ? 0 : index == 12 ? -1 : Int64((index - 1) * 960)
            XCTAssertEqual(granule, expected, "page \(index)")
        }
        XCTAssertEqual(pages.last![5], 0x04, "last page carries EOS")
        XCTAssertEqual(pages.last![26], 0, "finish() after flushed pages adds an empty EOS page")
    }

    func testEachDrainedBufferIsOnePage() throws {
        let writer = try OggOpusStreamWriter(head: OpusHead(channels: 2, preSkip: 312), serial: 7, packetsPerPage: 2)
        var pageSizes: [Int] = []
        writer.drainPages { pageSizes.append($0.count) }
        XCTAssertEqual(pageSizes.count, 2)
        let encoder = try OpusEncoder(sampleRate: 48_000, channels: 2)
        let pcm = harmonicSignal(sampleRate: 48_000, frames: 960, channels: 2)
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        let size = try pcm.withUnsafeBufferPointer { p in
            try packet.withUnsafeMutableBytes { try encoder.encode(p, into: $0) }
        }
        for _ in 0..<5 {
            try packet.withUnsafeBytes { try writer.write(packet: UnsafeRawBufferPointer(rebasing: $0[0..<size])) }
        }
        XCTAssertEqual(writer.pendingPageCount, 2)
        writer.finish()
        XCTAssertEqual(writer.pendingPageCount, 3)
        writer.drainPages { page in
            XCTAssertEqual(Array(page[0..<4]), Array("OggS".utf8))
            XCTAssertEqual(splitPages(Array(page)).count, 1)
        }
        XCTAssertEqual(writer.pendingPageCount, 0)
        XCTAssertThrowsError(try [UInt8]().withUnsafeBytes { try writer.write(packet: $0) })
    }

    func testOpusinfoAcceptsAndOpusdecDecodesWriterOutput() throws {
        guard let opusinfo = toolPath("opusinfo"), let opusdec = toolPath("opusdec") else {
            throw XCTSkip("opus-tools not installed (run scripts/setup.sh)")
        }
        let dir = try temporaryDirectory(self)
        // Empty EOS page (finish after flushed pages) and grouped pages with an EOS packet, mono and stereo.
        let cases: [(rate: Int, channels: Int, perPage: Int, flush: Bool)] = [
            (48_000, 1, 1, false), (24_000, 2, 3, true),
        ]
        for (index, c) in cases.enumerated() {
            let frames = c.rate / 50 * 100 + (c.flush ? 77 : 0)
            let pcm = harmonicSignal(sampleRate: c.rate, frames: frames, channels: c.channels)
            let (bytes, _) = try makeOggOpus(
                pcm, sampleRate: c.rate, channels: c.channels, packetsPerPage: c.perPage,
                bitrate: 64_000, flushLookahead: c.flush)
            let opusPath = dir.appendingPathComponent("case\(index).opus").path
            let wavPath = dir.appendingPathComponent("case\(index).wav").path
            try Data(bytes).write(to: URL(fileURLWithPath: opusPath))
            let info = try runTool(opusinfo, [opusPath])
            XCTAssertEqual(info.status, 0, info.output)
            XCTAssertFalse(info.output.lowercased().contains("warning"), info.output)
            XCTAssertFalse(info.output.lowercased().contains("error"), info.output)
            let decoded = try runTool(opusdec, ["--quiet", "--rate", "\(c.rate)", opusPath, wavPath])
            XCTAssertEqual(decoded.status, 0, decoded.output)
            let (format, samples) = try WAVReader.read(path: wavPath)
            XCTAssertEqual(format.channels, c.channels)
            XCTAssertEqual(format.sampleRate, c.rate)
            // Without the lookahead flush the encoder still holds its last `lookahead` samples.
            let lost = c.flush ? 0 : 312 * c.channels
            XCTAssertEqual(samples.count, pcm.count - lost, "opusdec applies our pre-skip and end granule")
            for ch in 0..<c.channels {
                XCTAssertGreaterThan(
                    correlation(channel(pcm, ch, of: c.channels), channel(samples, ch, of: c.channels)), 0.9)
            }
        }
    }

    func testOpusencFilesDecodeAlignedThroughOggOpusDecoder() throws {
        guard let opusenc = toolPath("opusenc") else { throw XCTSkip("opusenc not installed (run scripts/setup.sh)") }
        let dir = try temporaryDirectory(self)
        let wavPath = dir.appendingPathComponent("in.wav").path
        let opusPath = dir.appendingPathComponent("in.opus").path
        let frames = 48_000 * 2 + 123
        let pcm = harmonicSignal(sampleRate: 48_000, frames: frames, channels: 1)
        let writer = try WAVWriter(path: wavPath, format: WAVFormat(sampleRate: 48_000, channels: 1, encoding: .pcm16))
        try pcm.withUnsafeBufferPointer { try writer.write($0) }
        try writer.close()
        let result = try runTool(opusenc, ["--quiet", "--bitrate", "64", wavPath, opusPath])
        XCTAssertEqual(result.status, 0, result.output)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: opusPath)))

        let decoder = try OggOpusDecoder(sampleRate: 48_000, channels: 1)
        let output = decodeAll(bytes, with: decoder, chunkSizes: [4096])
        XCTAssertEqual(output.count, frames, "pre-skip removed and end trimmed to the EOS granule")
        XCTAssertGreaterThan(correlation(pcm, output), 0.9)
        XCTAssertEqual(bestLag(pcm, output, in: -10...10), 0, accuracy: 1)

        // Down to 24 kHz stereo output: same duration at half the rate, both channels equal.
        let stereo = try OggOpusDecoder(sampleRate: 24_000, channels: 2)
        let output24 = decodeAll(bytes, with: stereo)
        XCTAssertEqual(output24.count / 2, frames / 2, accuracy: 1)
        XCTAssertEqual(channel(output24, 0, of: 2), channel(output24, 1, of: 2))
    }

    func testRoundTripThroughOggOpusDecoderIsSampleAligned() throws {
        for (rate, channels) in [(24_000, 1), (48_000, 2)] {
            let pcm = harmonicSignal(sampleRate: rate, frames: rate / 50 * 50 + 101, channels: channels)
            let (bytes, _) = try makeOggOpus(pcm, sampleRate: rate, channels: channels, bitrate: 96_000)
            let decoder = try OggOpusDecoder(sampleRate: rate, channels: channels)
            let output = decodeAll(bytes, with: decoder)
            XCTAssertEqual(output.count, pcm.count)
            for c in 0..<channels {
                let a = channel(pcm, c, of: channels), b = channel(output, c, of: channels)
                XCTAssertGreaterThan(correlation(a, b), 0.9, "\(rate) Hz channel \(c)")
                XCTAssertEqual(bestLag(a, b, in: -10...10), 0, accuracy: 1, "\(rate) Hz channel \(c)")
            }
        }
    }
}
