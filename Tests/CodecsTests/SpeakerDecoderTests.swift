import Codecs
import XCTest

final class SpeakerDecoderTests: XCTestCase {
    /// 48 kHz stereo Opus packets of a 440 Hz tone, 20 ms each (what a Discord client sends).
    private func tonePackets(_ count: Int) throws -> [[UInt8]] {
        let encoder = try OpusEncoder(sampleRate: 48_000, channels: 2, application: .voip)
        var out: [[UInt8]] = []
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        for i in 0..<count {
            let pcm = (0..<1_920).map { n in Float(sin(Double(i * 960 + n / 2) * 2 * .pi * 440 / 48_000)) * 0.3 }
            let size = try pcm.withUnsafeBufferPointer { p in
                try packet.withUnsafeMutableBytes { try encoder.encode(p, into: $0) }
            }
            out.append(Array(packet[..<size]))
        }
        return out
    }

    func testDecodesStraightToTheGraphsFormatAndConcealsALoss() throws {
        let speaker = try SpeakerDecoder(sampleRate: 24_000, channels: 1)
        let packets = try tonePackets(30)
        var frame = [Float](repeating: 0, count: 480)
        var played: [Float] = []
        for tick in 0..<40 {
            let now = UInt64(tick) * 20_000_000
            if tick < 30, tick != 12 {  // packet 12 is lost
                packets[tick].withUnsafeBytes {
                    speaker.insert(
                        sequence: UInt16(tick), timestamp: UInt32(tick * 960), arrivalNanoseconds: now, opus: $0)
                }
            }
            if frame.withUnsafeMutableBufferPointer({ speaker.decodeFrame(nowNanoseconds: now, into: $0) }) {
                played += frame
            }
        }
        let c = speaker.jitter.counters
        XCTAssertEqual(c.lost, 1)
        XCTAssertEqual(speaker.framesDecoded, 29)
        XCTAssertEqual(speaker.decodeErrors, 0)
        // 29 packets + 1 concealed + 3 ticks held after the spurt, every frame 20 ms of 24 kHz mono.
        XCTAssertEqual(played.count, 33 * 480)
        let rms = (played[4_800..<9_600].reduce(0) { $0 + $1 * $1 } / 4_800).squareRoot()
        XCTAssertGreaterThan(rms, 0.1, "the tone comes through")
    }

    func testGarbagePacketsAreConcealedAndCountedNotPlayed() throws {
        let speaker = try SpeakerDecoder(sampleRate: 48_000, channels: 2)
        var frame = [Float](repeating: 1, count: 1_920)
        let garbage: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x00]  // code-3 packet with an impossible frame count
        for tick in 0..<8 {
            garbage.withUnsafeBytes {
                speaker.insert(
                    sequence: UInt16(tick), timestamp: UInt32(tick * 960),
                    arrivalNanoseconds: UInt64(tick) * 20_000_000, opus: $0)
            }
            _ = frame.withUnsafeMutableBufferPointer {
                speaker.decodeFrame(nowNanoseconds: UInt64(tick) * 20_000_000, into: $0)
            }
        }
        XCTAssertGreaterThan(speaker.decodeErrors, 0)
        XCTAssertEqual(speaker.framesDecoded, 0)
        XCTAssertLessThan(frame.map(abs).max()!, 0.01, "concealment of nothing is near silence, never the garbage")
    }
}
