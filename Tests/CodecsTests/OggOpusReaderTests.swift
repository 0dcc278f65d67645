import XCTest

@testable import Codecs

final class OggOpusReaderTests: XCTestCase {
    private var stream: [UInt8] = []
    private var reference: [Float] = []

    override func setUpWithError() throws {
        let pcm = harmonicSignal(sampleRate: 48_000, frames: 960 * 50, channels: 1)
        stream = try makeOggOpus(pcm, sampleRate: 48_000, channels: 1, bitrate: 48_000).bytes
        reference = decodeAll(stream, with: try OggOpusDecoder())
        XCTAssertEqual(reference.count, pcm.count)
    }

    func testAnyChunkingGivesIdenticalOutput() throws {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<200).map { _ in Int.random(in: 1...700, using: &generator) }
        for sizes in [[1], [7], [stream.count], random, [27, 1, 3000, 2]] {
            let decoder = try OggOpusDecoder()
            XCTAssertTrue(decodeAll(stream, with: decoder, chunkSizes: sizes) == reference, "chunks \(sizes.prefix(4))")
            XCTAssertEqual(decoder.reader.statistics.corruptPages, 0)
            XCTAssertEqual(decoder.reader.statistics.skippedBytes, 0)
            XCTAssertEqual(decoder.reader.statistics.packets, 51, "50 frames + 1 lookahead flush")
        }
    }

    func testPushDecodesEagerlyUpToBufferCapacity() throws {
        let eager = try OggOpusDecoder()
        stream.withUnsafeBytes { eager.push($0) }
        XCTAssertEqual(eager.bufferedSamplesPerChannel, reference.count, "the whole second is ready as playout backlog")

        let bounded = try OggOpusDecoder(bufferCapacity: 4800)
        stream.withUnsafeBytes { bounded.push($0) }
        XCTAssertGreaterThanOrEqual(bounded.bufferedSamplesPerChannel, 4800)
        XCTAssertLessThanOrEqual(bounded.bufferedSamplesPerChannel, 4800 + 960 + 5760)
        XCTAssertTrue(decodeAll([], with: bounded) == reference, "the rest is decoded as frames are read")
    }

    func testEndTrimFollowsTheEOSGranuleAndIgnoresImplausibleOnes() throws {
        let head = OpusHead(channels: 1, preSkip: 0).encoded()
        let packet = Array(splitPages(stream)[5][28...])
        func decode(lastGranule: Int64) throws -> Int {
            var bytes = makeOggPage(serial: 3, sequence: 0, granule: 0, flags: 0x02, packets: [head])
            bytes += makeOggPage(
                serial: 3, sequence: 1, granule: 0, flags: 0,
                packets: [Array("OpusTags".utf8) + [0, 0, 0, 0, 0, 0, 0, 0]])
            bytes += makeOggPage(serial: 3, sequence: 2, granule: 960, flags: 0, packets: [packet])
            bytes += makeOggPage(serial: 3, sequence: 3, granule: lastGranule, flags: 0x04, packets: [packet])
            return decodeAll(bytes, with: try OggOpusDecoder()).count
        }
        XCTAssertEqual(try decode(lastGranule: 1920), 1920)
        XCTAssertEqual(try decode(lastGranule: 1000), 1000)
        XCTAssertEqual(try decode(lastGranule: 960), 960)
        XCTAssertEqual(try decode(lastGranule: 480), 1920, "granule behind the decoded samples: no trim")
    }

    func testCorruptPageIsCountedAndTheRestDecodes() throws {
        var pages = splitPages(stream)
        pages[10][pages[10].count - 5] ^= 0x55
        let decoder = try OggOpusDecoder()
        let output = decodeAll(pages.flatMap { $0 }, with: decoder, chunkSizes: [100])
        XCTAssertEqual(decoder.reader.statistics.corruptPages, 1)
        XCTAssertEqual(decoder.reader.statistics.sequenceGaps, 1)
        XCTAssertEqual(decoder.reader.statistics.packets, 50)
        XCTAssertEqual(decoder.reader.lastError, .corruptOggPage)
        // The lost 20 ms is concealed, so timing and length are kept and later audio is intact.
        XCTAssertEqual(decoder.concealedSamples, 960)
        XCTAssertEqual(output.count, reference.count)
        XCTAssertEqual(Array(output.prefix(960 * 7)), Array(reference.prefix(960 * 7)))
        XCTAssertGreaterThan(correlation(Array(reference.suffix(960 * 20)), Array(output.suffix(960 * 20))), 0.99)
    }

    func testTruncatedStreamDecodesWhatArrived() throws {
        let cut = Array(stream[0..<(stream.count * 2 / 3)])
        let decoder = try OggOpusDecoder()
        let output = decodeAll(cut, with: decoder, chunkSizes: [333])
        XCTAssertGreaterThan(output.count, 960 * 25)
        XCTAssertLessThan(output.count, reference.count)
        XCTAssertTrue(Array(reference.prefix(output.count)) == output)
    }

    func testLeadingAndEmbeddedGarbageIsSkipped() throws {
        let garbage = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }.map { $0 == 0x4F ? 0 : $0 }
        let pages = splitPages(stream)
        var damaged = garbage
        for (index, page) in pages.enumerated() {
            damaged += page
            if index == 20 { damaged += [0x4F, 0x67, 0x67, 0x01, 0x02] }
        }
        let decoder = try OggOpusDecoder()
        XCTAssertTrue(decodeAll(damaged, with: decoder, chunkSizes: [64]) == reference)
        XCTAssertEqual(decoder.reader.statistics.skippedBytes, 1005)
        XCTAssertEqual(decoder.reader.statistics.corruptPages, 0)
    }

    func testChainedStreamsAreFollowed() throws {
        let first = harmonicSignal(sampleRate: 48_000, frames: 960 * 20, channels: 1)
        let second = harmonicSignal(sampleRate: 24_000, frames: 480 * 30, channels: 2, fundamental: 300)
        let encoderA = try OggOpusEncoder(encoder: OpusEncoder(sampleRate: 48_000, channels: 1), serial: 1)
        var bytes: [UInt8] = []
        try first.withUnsafeBufferPointer { all in
            for i in 0..<20 { try encoderA.encode(UnsafeBufferPointer(rebasing: all[(i * 960)..<((i + 1) * 960)])) }
        }
        encoderA.restart(serial: 2)
        encoderA.writer.drainPages(into: &bytes)
        var restartedHeaders: [UInt8] = []
        encoderA.writer.drainPages(into: &restartedHeaders)
        XCTAssertTrue(restartedHeaders.isEmpty)
        let tail = try makeOggOpus(second, sampleRate: 24_000, channels: 2, serial: 3).bytes
        // Stream 2 from the restart has headers only (closed by an empty EOS page); stream 3 (stereo) follows.
        encoderA.writer.finish()
        encoderA.writer.drainPages(into: &bytes)
        bytes += tail

        var starts: [(UInt32, OpusHead)] = []
        let reader = OggOpusStreamReader()
        bytes.withUnsafeBytes { reader.push($0) }
        var packets = 0
        while let event = reader.next() {
            switch event {
            case let .streamStarted(serial, head): starts.append((serial, head))
            case .packet: packets += 1
            }
        }
        XCTAssertEqual(starts.map { $0.0 }, [1, 2, 3])
        XCTAssertEqual(starts.map { $0.1.channels }, [1, 1, 2])
        XCTAssertEqual(starts[2].1.inputSampleRate, 24_000)
        XCTAssertEqual(packets, 20 + 31)

        let decoder = try OggOpusDecoder(sampleRate: 48_000, channels: 1)
        let output = decodeAll(bytes, with: decoder, chunkSizes: [500])
        // Stream 1 was restarted without flushing the encoder lookahead, so it lacks its last 312 samples.
        XCTAssertEqual(output.count, 960 * 20 - 312 + 960 * 30)
        XCTAssertEqual(decoder.reader.statistics.streams, 3)
    }

    func testInvalidOpusPacketIsCountedNotFatal() throws {
        let head = OpusHead(channels: 1, preSkip: 0)
        let good = Array(splitPages(stream)[5][28...])  // a single-packet page body from the valid stream
        var bytes = makeOggPage(serial: 5, sequence: 0, granule: 0, flags: 0x02, packets: [head.encoded()])
        bytes += makeOggPage(
            serial: 5, sequence: 1, granule: 0, flags: 0, packets: [Array("OpusTags".utf8) + [0, 0, 0, 0, 0, 0, 0, 0]])
        bytes += makeOggPage(serial: 5, sequence: 2, granule: 960, flags: 0, packets: [[0xFF, 0xFF, 0xFF]])
        bytes += makeOggPage(serial: 5, sequence: 3, granule: 1920, flags: 0, packets: [good])
        let decoder = try OggOpusDecoder()
        var reported: [CodecError] = []
        decoder.onError = { reported.append($0) }
        let output = decodeAll(bytes, with: decoder)
        XCTAssertEqual(output.count, 960)
        XCTAssertEqual(decoder.decodeErrors, 1)
        XCTAssertEqual(reported, [.opus(operation: "opus_decode_float", code: -4)])
        XCTAssertEqual(decoder.lastError, reported.first)
    }

    func testBrokenHeadersAndForeignStreams() throws {
        var bytes = makeOggPage(
            serial: 8, sequence: 0, granule: 0, flags: 0x02, packets: [Array("OpusHead".utf8) + [1, 0]])
        bytes += makeOggPage(
            serial: 9, sequence: 0, granule: 0, flags: 0x02, packets: [Array("\u{01}vorbis".utf8) + [0, 0]])
        bytes += stream
        let decoder = try OggOpusDecoder()
        XCTAssertTrue(decodeAll(bytes, with: decoder, chunkSizes: [13]) == reference)
        XCTAssertEqual(decoder.reader.statistics.invalidHeaders, 1)
        XCTAssertEqual(decoder.reader.statistics.foreignPages, 1)
        XCTAssertEqual(decoder.reader.statistics.streams, 1)
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 10).withUnsafeBytes { try OpusHead.parse($0) })
    }

    func testRandomDamageNeverTraps() throws {
        var rng = SplitMix64(seed: 0xC0DEC)
        for round in 0..<60 {
            var damaged = stream
            for _ in 0..<(1 + round % 12) {
                let index = Int(rng.next() % UInt64(damaged.count))
                switch rng.next() % 3 {
                case 0: damaged[index] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                case 1: damaged.remove(at: index)
                default: damaged.insert(UInt8(truncatingIfNeeded: rng.next()), at: index)
                }
            }
            let decoder = try OggOpusDecoder(sampleRate: 16_000, channels: 2)
            let output = decodeAll(damaged, with: decoder, chunkSizes: [Int(rng.next() % 500) + 1])
            XCTAssertLessThanOrEqual(output.count, (reference.count / 3 + 2 * 1920) * 2, "round \(round)")
            XCTAssertGreaterThan(decoder.reader.statistics.pages, 0)
        }
        let noise = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let decoder = try OggOpusDecoder()
        XCTAssertTrue(decodeAll(noise, with: decoder, chunkSizes: [4096]).isEmpty)
        XCTAssertEqual(decoder.reader.statistics.skippedBytes, noise.count)
    }
}

/// Small deterministic generator so damage patterns are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
