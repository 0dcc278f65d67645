import Foundation
import XCTest

@testable import Codecs

/// Interop with sphn (the Ogg Opus stream library the PersonaPlex server uses), when the peer venv exists
/// (`scripts/setup.sh --with-peers`).
final class SphnInteropTests: XCTestCase {
    private static let script = """
        import sys, time, numpy as np, sphn
        mode, src, dst = sys.argv[1:4]
        if mode == "decode":
            data = open(src, "rb").read()
            reader, out = sphn.OpusStreamReader(24000), []
            for i in range(0, len(data), 97):
                reader.append_bytes(data[i:i + 97])
                pcm = reader.read_pcm()
                if pcm is None:
                    sys.exit("sphn reader died")
                out.append(pcm)
            for _ in range(100):
                time.sleep(0.005)
                pcm = reader.read_pcm()
                if pcm is None:
                    sys.exit("sphn reader died")
                out.append(pcm)
            np.concatenate(out).astype(np.float32).tofile(dst)
        else:
            pcm, writer, out = np.fromfile(src, dtype=np.float32), sphn.OpusStreamWriter(24000), b""
            for i in range(0, len(pcm), 1920):
                writer.append_pcm(pcm[i:i + 1920])
                out += writer.read_bytes()
            open(dst, "wb").write(out + writer.read_bytes())
        """

    private func python() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python),
            (try? runTool(python, ["-c", "import sphn, numpy"]))?.status == 0
        else {
            throw XCTSkip("sphn peer venv missing (bash scripts/setup.sh --with-peers)")
        }
        return python
    }

    private func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func testSphnReaderDecodesOurStream() throws {
        let python = try python()
        let dir = try temporaryDirectory(self)
        let pcm = harmonicSignal(sampleRate: 24_000, frames: 24_000 * 2, channels: 1)
        let bytes = try makeOggOpus(pcm, sampleRate: 24_000, channels: 1, serial: 42, flushLookahead: false).bytes
        let opus = dir.appendingPathComponent("ours.opus"), raw = dir.appendingPathComponent("sphn.f32")
        try Data(bytes).write(to: opus)
        let result = try runTool(python, ["-c", Self.script, "decode", opus.path, raw.path])
        XCTAssertEqual(result.status, 0, result.output)
        let decoded = try floats(raw)
        XCTAssertGreaterThan(decoded.count, 24_000 * 2 - 1920 * 2)
        let lag = bestLag(pcm, decoded, in: -400...400)
        XCTAssertGreaterThan(correlation(pcm, decoded, lag: lag), 0.9, "lag \(lag)")
    }

    func testOurDecoderReadsSphnStream() throws {
        let python = try python()
        let dir = try temporaryDirectory(self)
        let pcm = harmonicSignal(sampleRate: 24_000, frames: 24_000 * 2, channels: 1)
        let raw = dir.appendingPathComponent("in.f32"), opus = dir.appendingPathComponent("sphn.opus")
        try pcm.withUnsafeBytes { try Data($0).write(to: raw) }
        let result = try runTool(python, ["-c", Self.script, "encode", raw.path, opus.path])
        XCTAssertEqual(result.status, 0, result.output)
        let bytes = [UInt8](try Data(contentsOf: opus))
        let decoder = try OggOpusDecoder(sampleRate: 24_000, channels: 1)
        let output = decodeAll(bytes, with: decoder, chunkSizes: [1, 50, 400])
        XCTAssertEqual(decoder.decodeErrors, 0)
        XCTAssertEqual(decoder.reader.statistics.corruptPages, 0)
        XCTAssertEqual(decoder.concealedSamples, 0, "sphn's 24 kHz-unit granules must not look like gaps")
        // sphn declares an 80 ms pre-skip (3840 at 48 kHz) and does not flush its last frame.
        XCTAssertEqual(decoder.head?.preSkip, 3840)
        XCTAssertGreaterThanOrEqual(output.count, 24_000 * 2 - 1920 * 2)
        let lag = bestLag(pcm, output, in: -2400...400)
        XCTAssertGreaterThan(correlation(pcm, output, lag: lag), 0.9, "lag \(lag)")

        // Ignoring the declared pre-skip (as sphn itself does) keeps those 1920 samples.
        let unskipped = decodeAll(bytes, with: try OggOpusDecoder(sampleRate: 24_000, channels: 1, applyPreSkip: false))
        XCTAssertEqual(unskipped.count, output.count + 1920)
        XCTAssertGreaterThan(correlation(pcm, unskipped, lag: lag + 1920), 0.9)
    }
}
