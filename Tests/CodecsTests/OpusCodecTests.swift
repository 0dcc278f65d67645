import XCTest

@testable import Codecs

final class OpusCodecTests: XCTestCase {
    /// Encodes and decodes frame by frame; returns input and output (output includes the lookahead delay).
    private func roundTrip(sampleRate: Int, channels: Int, bitrate: Int, seconds: Double = 1)
        throws -> (input: [Float], output: [Float], lookahead: Int)
    {
        let encoder = try OpusEncoder(sampleRate: sampleRate, channels: channels, application: .audio, bitrate: bitrate)
        let decoder = try OpusDecoder(sampleRate: sampleRate, channels: channels)
        let frame = encoder.samplesPerChannel
        let frames = Int(seconds * 50)
        let input = harmonicSignal(sampleRate: sampleRate, frames: frames * frame, channels: channels)
        var output: [Float] = []
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        var pcm = [Float](repeating: 0, count: decoder.maxSamplesPerChannel * channels)
        try input.withUnsafeBufferPointer { all in
            for index in 0..<frames {
                let slice = UnsafeBufferPointer(
                    rebasing: all[(index * frame * channels)..<((index + 1) * frame * channels)])
                let size = try packet.withUnsafeMutableBytes { try encoder.encode(slice, into: $0) }
                XCTAssertGreaterThan(size, 0)
                let decoded = try packet.withUnsafeBytes { bytes in
                    try pcm.withUnsafeMutableBufferPointer {
                        try decoder.decode(packet: UnsafeRawBufferPointer(rebasing: bytes[0..<size]), into: $0)
                    }
                }
                XCTAssertEqual(decoded, frame)
                output += pcm[0..<(decoded * channels)]
            }
        }
        return (input, output, encoder.lookahead)
    }

    func testMono24kRoundTripCorrelatesAfterLookahead() throws {
        let (input, output, lookahead) = try roundTrip(sampleRate: 24_000, channels: 1, bitrate: 32_000)
        XCTAssertGreaterThan(lookahead, 0)
        XCTAssertGreaterThan(correlation(input, output, lag: lookahead), 0.9)
        XCTAssertEqual(bestLag(input, output, in: (lookahead - 20)...(lookahead + 20)), lookahead, accuracy: 1)
    }

    func testStereo48kRoundTripKeepsChannelsApart() throws {
        let (input, output, lookahead) = try roundTrip(sampleRate: 48_000, channels: 2, bitrate: 96_000)
        for c in 0..<2 {
            let a = channel(input, c, of: 2), b = channel(output, c, of: 2)
            XCTAssertGreaterThan(correlation(a, b, lag: lookahead), 0.9, "channel \(c)")
        }
        // Left and right carry different pitches; swapping them must not correlate as well.
        XCTAssertLessThan(correlation(channel(input, 0, of: 2), channel(output, 1, of: 2), lag: lookahead), 0.5)
    }

    func testPreSkipIsLookaheadAt48k() throws {
        let encoder = try OpusEncoder(sampleRate: 24_000, channels: 1, application: .voip)
        XCTAssertEqual(encoder.preSkip48k, encoder.lookahead * 2)
        let lowDelay = try OpusEncoder(sampleRate: 48_000, channels: 1, application: .lowDelay)
        XCTAssertLessThan(lowDelay.lookahead, encoder.lookahead * 2)
    }

    func testSilenceNeverProducesEmptyPackets() throws {
        let encoder = try OpusEncoder(sampleRate: 48_000, channels: 1, application: .voip, bitrate: 16_000)
        let silence = [Float](repeating: 0, count: encoder.samplesPerChannel)
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        for _ in 0..<100 {
            let size = try silence.withUnsafeBufferPointer { pcm in
                try packet.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
            }
            XCTAssertGreaterThanOrEqual(size, 1)
            let samples = try packet.withUnsafeBytes {
                try OpusDecoder.sampleCount(packet: UnsafeRawBufferPointer(rebasing: $0[0..<size]))
            }
            XCTAssertEqual(samples, 960)
        }
    }

    func testFrameDurationsAndSettings() throws {
        for duration in OpusFrameDuration.allCases {
            let encoder = try OpusEncoder(
                sampleRate: 16_000, channels: 1, bitrate: 24_000, complexity: 5, frameDuration: duration)
            let pcm = harmonicSignal(sampleRate: 16_000, frames: encoder.samplesPerChannel, channels: 1)
            var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
            let size = try pcm.withUnsafeBufferPointer { p in
                try packet.withUnsafeMutableBytes { try encoder.encode(p, into: $0) }
            }
            let samples = try packet.withUnsafeBytes {
                try OpusDecoder.sampleCount(packet: UnsafeRawBufferPointer(rebasing: $0[0..<size]), sampleRate: 48_000)
            }
            XCTAssertEqual(samples, duration.rawValue * 48_000 / 10_000, "\(duration)")
        }
        let encoder = try OpusEncoder()
        XCTAssertNoThrow(try encoder.setBitrate(64_000))
        XCTAssertNoThrow(try encoder.setComplexity(3))
        XCTAssertThrowsError(try encoder.setComplexity(11))
        XCTAssertThrowsError(try OpusEncoder(sampleRate: 44_100))
        XCTAssertThrowsError(try OpusEncoder(channels: 3))
    }

    func testBitrateControlChangesPacketSize() throws {
        let pcm = harmonicSignal(sampleRate: 48_000, frames: 960 * 25, channels: 1)
        func averagePacketSize(bitrate: Int) throws -> Double {
            let encoder = try OpusEncoder(sampleRate: 48_000, channels: 1, bitrate: bitrate)
            var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
            var total = 0
            try pcm.withUnsafeBufferPointer { all in
                for i in 0..<25 {
                    total += try packet.withUnsafeMutableBytes {
                        try encoder.encode(UnsafeBufferPointer(rebasing: all[(i * 960)..<((i + 1) * 960)]), into: $0)
                    }
                }
            }
            return Double(total) / 25
        }
        // 20 ms packets: bytes = bitrate / 400. A ctl call that silently failed would leave both at the default.
        XCTAssertEqual(try averagePacketSize(bitrate: 16_000), 40, accuracy: 12)
        XCTAssertEqual(try averagePacketSize(bitrate: 128_000), 320, accuracy: 80)
    }

    func testWrongFrameSizeIsRejected() throws {
        let encoder = try OpusEncoder(sampleRate: 48_000, channels: 1)
        let pcm = [Float](repeating: 0, count: 100)
        var packet = [UInt8](repeating: 0, count: 100)
        XCTAssertThrowsError(
            try pcm.withUnsafeBufferPointer { p in try packet.withUnsafeMutableBytes { try encoder.encode(p, into: $0) }
            }
        ) {
            guard case CodecError.invalidArgument = $0 else { return XCTFail("\($0)") }
        }
    }

    func testInvalidPacketThrowsLibopusMessage() throws {
        let decoder = try OpusDecoder(sampleRate: 48_000, channels: 2)
        var pcm = [Float](repeating: 0, count: decoder.maxSamplesPerChannel * 2)
        let garbage: [UInt8] = [0xFF, 0xFF, 0xFF]
        XCTAssertThrowsError(
            try garbage.withUnsafeBytes { p in
                try pcm.withUnsafeMutableBufferPointer { try decoder.decode(packet: p, into: $0) }
            }
        ) {
            XCTAssertEqual($0 as? CodecError, .opus(operation: "opus_decode_float", code: -4))
            XCTAssertTrue("\($0)".contains("corrupted stream"), "\($0)")
        }
        XCTAssertThrowsError(try garbage.withUnsafeBytes { try OpusDecoder.sampleCount(packet: $0) })
        XCTAssertThrowsError(
            try [UInt8]().withUnsafeBytes { p in
                try pcm.withUnsafeMutableBufferPointer { try decoder.decode(packet: p, into: $0) }
            }
        ) {
            XCTAssertEqual($0 as? CodecError, .emptyPacket)
        }
    }

    /// Joins six 20 ms single-frame packets into one 120 ms code-3 (VBR) packet, RFC 6716 section 3.2.5.
    private func make120msPacket() throws -> [UInt8] {
        let encoder = try OpusEncoder(sampleRate: 48_000, channels: 1, application: .lowDelay, bitrate: 64_000)
        let pcm = harmonicSignal(sampleRate: 48_000, frames: 6 * 960, channels: 1)
        var frames: [[UInt8]] = []
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        try pcm.withUnsafeBufferPointer { all in
            for index in 0..<6 {
                let size = try packet.withUnsafeMutableBytes {
                    try encoder.encode(
                        UnsafeBufferPointer(rebasing: all[(index * 960)..<((index + 1) * 960)]), into: $0)
                }
                frames.append(Array(packet[0..<size]))
            }
        }
        XCTAssertTrue(frames.allSatisfy { $0[0] == frames[0][0] && $0[0] & 3 == 0 }, "frames share one code-0 TOC")
        var joined: [UInt8] = [(frames[0][0] & 0xFC) | 3, 0x80 | 6]
        for frame in frames.dropLast() {
            let length = frame.count - 1
            if length < 252 {
                joined.append(UInt8(length))
            } else {
                let first = 252 + (length & 3)
                joined += [UInt8(first), UInt8((length - first) >> 2)]
            }
        }
        for frame in frames { joined += frame.dropFirst() }
        return joined
    }

    func testDecodes120msPacketAndConceals() throws {
        let packet = try make120msPacket()
        XCTAssertEqual(try packet.withUnsafeBytes { try OpusDecoder.sampleCount(packet: $0, sampleRate: 48_000) }, 5760)
        let decoder = try OpusDecoder(sampleRate: 48_000, channels: 1)
        XCTAssertEqual(decoder.maxSamplesPerChannel, 5760)
        var out = [Float](repeating: 0, count: decoder.maxSamplesPerChannel)
        let n = try packet.withUnsafeBytes { p in
            try out.withUnsafeMutableBufferPointer { try decoder.decode(packet: p, into: $0) }
        }
        XCTAssertEqual(n, 5760)
        let concealed = try out.withUnsafeMutableBufferPointer {
            try decoder.concealLoss(samplesPerChannel: 960, into: $0)
        }
        XCTAssertEqual(concealed, 960)
        var small = [Float](repeating: 0, count: 960)
        XCTAssertThrowsError(
            try packet.withUnsafeBytes { p in
                try small.withUnsafeMutableBufferPointer { try decoder.decode(packet: p, into: $0) }
            }
        ) { XCTAssertEqual($0 as? CodecError, .bufferTooSmall(needed: 5760, available: 960)) }
    }

    func testFECDecodeRebuildsOneFrameFromTheNextPacket() throws {
        let encoder = try OpusEncoder(sampleRate: 48_000, channels: 1)
        let tone = (0..<960).map { Float(sin(Double($0) * 0.05)) * 0.3 }
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        let size = try tone.withUnsafeBufferPointer { pcm in
            try packet.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
        }
        let decoder = try OpusDecoder(sampleRate: 48_000, channels: 1)
        var out = [Float](repeating: 0, count: 960)
        let n = try packet[..<size].withUnsafeBytes { p in
            try out.withUnsafeMutableBufferPointer {
                try decoder.decodeFEC(nextPacket: p, samplesPerChannel: 960, into: $0)
            }
        }
        XCTAssertEqual(n, 960)
        XCTAssertThrowsError(
            try out.withUnsafeMutableBufferPointer {
                try decoder.decodeFEC(
                    nextPacket: UnsafeRawBufferPointer(start: nil, count: 0), samplesPerChannel: 960, into: $0)
            }
        ) { XCTAssertEqual($0 as? CodecError, .emptyPacket) }
    }

    func testOggOpusDecoderSplits120msPacketsInto20msFrames() throws {
        let packet = try make120msPacket()
        let head = OpusHead(channels: 1, preSkip: 0, inputSampleRate: 48_000)
        var stream = makeOggPage(serial: 9, sequence: 0, granule: 0, flags: 0x02, packets: [head.encoded()])
        stream += makeOggPage(
            serial: 9, sequence: 1, granule: 0, flags: 0, packets: [Array("OpusTags".utf8) + [0, 0, 0, 0, 0, 0, 0, 0]])
        stream += makeOggPage(serial: 9, sequence: 2, granule: 5760, flags: 0, packets: [packet])
        stream += makeOggPage(serial: 9, sequence: 3, granule: 11_520, flags: 0x04, packets: [packet])
        let decoder = try OggOpusDecoder(sampleRate: 48_000, channels: 1)
        var frame = [Float](repeating: 0, count: 960)
        var frames = 0
        stream.withUnsafeBytes { decoder.push($0) }
        while frame.withUnsafeMutableBufferPointer({ decoder.readFrame(into: $0) }) { frames += 1 }
        XCTAssertEqual(frames, 12)
        XCTAssertEqual(decoder.decodeErrors, 0)
    }
}
