import COpus
import Codecs
import Foundation
import Nodes
import Realtime
import RouterCore
import XCTest

final class DecodeTests: XCTestCase {
    override func setUp() { quietLog(self) }

    struct Decoded {
        var pcm: [Float] = []
        var present: [Bool] = []
        var errors = 0
        var drops = 0
        var underruns = 0
        var maxQueueDepth = 0
    }

    /// Feeds `ticks[t]` (chunks of Ogg bytes) in tick t, then ends the input and ticks until the node is drained.
    private func decode(
        _ ticks: [[[UInt8]]], rate: Int = 48_000, channels: Int = 1, params: [String: String] = [:],
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Decoded {
        var p = ["rate": String(rate), "channels": String(channels)]
        for (k, v) in params { p[k] = v }
        let h = try NodeHarness<Decode>(params: p, inputs: ["in": MediaFormat(.ogg)])
        var result = Decoded()
        func collect() {
            if let f = h.pcmOutput().frame {
                result.pcm += f
                result.present.append(true)
            } else {
                result.present.append(false)
            }
            result.maxQueueDepth = max(result.maxQueueDepth, h.metrics.queueDepth)
        }
        for chunks in ticks {
            for c in chunks { h.packetInput().append(c) }
            try h.tick()
            collect()
        }
        h.endInput()
        var extra = 0
        repeat {
            try h.tick()
            collect()
            extra += 1
        } while !h.node.isDrained && extra < 20_000
        XCTAssertTrue(h.node.isDrained, "drained", file: file, line: line)
        try h.tick()
        XCTAssertNil(h.pcmOutput().frame, "nothing after the end", file: file, line: line)
        result.errors = h.metrics.errors
        result.drops = h.metrics.drops
        result.underruns = h.node.underruns
        return result
    }

    /// All bytes in the first tick. A whole file at once is a backlog, so max_buffer is off unless given.
    private func decodeWhole(_ bytes: [UInt8], rate: Int = 48_000, params: [String: String] = [:]) throws -> Decoded {
        try decode([[bytes]], rate: rate, params: ["max_buffer": "0"].merging(params) { $1 })
    }

    /// A 3 s speech-like 48 kHz mono signal (a whole number of 20 ms frames) and an opusenc encoding of it.
    private func opusencStream(_ dir: URL, extraArguments: [String] = []) throws -> (pcm: [Float], bytes: [UInt8]) {
        let pcm16 = Signal.speechLike(rate: 48_000, frames: 144_000).map { Int16(($0 * 32767).rounded()) }
        let wav = dir.appendingPathComponent("source.wav").path
        try TestFiles.write(TestFiles.wav16Bytes(pcm16, rate: 48_000, channels: 1), wav)
        let opus = dir.appendingPathComponent("source-\(extraArguments.joined()).opus").path
        let (status, output) = try Tools.run("opusenc", ["--quiet", "--bitrate", "64"] + extraArguments + [wav, opus])
        XCTAssertEqual(status, 0, output)
        return (pcm16.map { Float($0) / 32767 }, try TestFiles.bytes(opus))
    }

    /// A stream made with the codec library, one 20 ms packet per page.
    private func libraryStream(_ pcm: [Float], rate: Int = 48_000) throws -> [UInt8] {
        let encoder = try OggOpusEncoder(
            encoder: OpusEncoder(
                sampleRate: rate, channels: 1, application: .audio, bitrate: 48_000,
                complexity: 5, frameDuration: .ms20), serial: 0xC0FFEE)
        var bytes: [UInt8] = []
        let n = rate / 50
        try pcm.withUnsafeBufferPointer { all in
            var offset = 0
            while offset + n <= all.count {
                try encoder.encode(UnsafeBufferPointer(rebasing: all[offset..<(offset + n)]))
                encoder.writer.drainPages(into: &bytes)
                offset += n
            }
            try encoder.finish(remainder: UnsafeBufferPointer(rebasing: all[offset...]))
        }
        encoder.writer.drainPages(into: &bytes)
        return bytes
    }

    private func assertMatches(
        _ source: [Float], _ decoded: [Float], label: String, minimum: Double = 0.9,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let best = Analysis.bestLag(source, decoded, in: -200...200)
        XCTAssertEqual(best.lag, 0, "\(label): alignment", file: file, line: line)
        XCTAssertGreaterThan(best.correlation, minimum, "\(label): correlation", file: file, line: line)
        print("Decode \(label): lag \(best.lag), correlation \(String(format: "%.4f", best.correlation))")
    }

    func testDecodesOpusencFileAlignedWithSource() throws {
        let dir = try TestFiles.directory(self)
        let (pcm, bytes) = try opusencStream(dir)
        let decoded = try decodeWhole(bytes)
        XCTAssertEqual(decoded.pcm.count, pcm.count, "pre-skip and end trim applied: length == source length")
        assertMatches(pcm, decoded.pcm, label: "opusenc 20 ms")
        XCTAssertEqual(decoded.errors, 0)
        // Once playing, one frame per tick without gaps.
        XCTAssertEqual(decoded.present.prefix(150), ArraySlice(repeating: true, count: 150))
        // At 24 kHz too (what the PersonaPlex path uses).
        let at24 = try decodeWhole(bytes, rate: 24_000)
        XCTAssertEqual(at24.pcm.count, pcm.count / 2)
        assertMatches(Analysis.decimate(pcm, by: 2), at24.pcm, label: "opusenc at 24 kHz")
    }

    /// The same stream in one piece, in 1-byte chunks, and in random splits spread over ticks gives identical PCM.
    func testArbitraryChunkingGivesIdenticalPCM() throws {
        let dir = try TestFiles.directory(self)
        let (_, bytes) = try opusencStream(dir)
        let whole = try decodeWhole(bytes).pcm
        let ones = try decode([bytes.map { [$0] }], params: ["max_buffer": "0"]).pcm
        XCTAssertEqual(ones, whole, "1-byte chunks")
        var rng = Signal.Random(seed: 99)
        var ticks: [[[UInt8]]] = []
        var offset = 0
        while offset < bytes.count {
            var tick: [[UInt8]] = []
            for _ in 0..<rng.int(4) where offset < bytes.count {
                let size = min(1 + rng.int(700), bytes.count - offset)
                tick.append(Array(bytes[offset..<(offset + size)]))
                offset += size
            }
            ticks.append(tick)
        }
        let random = try decode(ticks, params: ["max_buffer": "0"]).pcm
        XCTAssertEqual(random, whole, "random splits over \(ticks.count) ticks")
    }

    /// 60 ms packets (opusenc) and 120 ms packets (libopus repacketizer) come out as 20 ms frames, one per tick.
    func testLongPacketsAreSplitInto20msFrames() throws {
        let dir = try TestFiles.directory(self)
        let (pcm, bytes60) = try opusencStream(dir, extraArguments: ["--framesize", "60"])
        let pages60 = Ogg.pages(bytes60)
        let durations60 = Ogg.packets(Array(pages60[2...])).map { Ogg.opusDuration48k($0.data) }
        XCTAssertEqual(
            Set(durations60.dropLast(2)), [2880], "opusenc wrote 60 ms packets (shorter ones only at the end)")
        let d60 = try decodeWhole(bytes60)
        XCTAssertEqual(d60.pcm.count, pcm.count)
        XCTAssertEqual(d60.present.prefix(150), ArraySlice(repeating: true, count: 150), "a 20 ms frame every tick")
        assertMatches(pcm, d60.pcm, label: "60 ms packets")

        // 120 ms: pairs of 60 ms packets joined by the libopus repacketizer, muxed here.
        let encoder = try OpusEncoder(
            sampleRate: 48_000, channels: 1, application: .audio, bitrate: 64_000, complexity: 5,
            frameDuration: .ms60)
        var packets60: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        let padded = pcm + [Float](repeating: 0, count: 2 * 2880)
        for start in stride(from: 0, to: padded.count, by: 2880) {
            let size = try padded[start..<(start + 2880)].withUnsafeBufferPointer { input in
                try buffer.withUnsafeMutableBytes { try encoder.encode(input, into: $0) }
            }
            packets60.append(Array(buffer[0..<size]))
        }
        var packets: [[UInt8]] = []
        var joined = 0
        for i in stride(from: 0, to: packets60.count, by: 2) {
            let a = packets60[i], b = packets60[i + 1]
            let rp = opus_repacketizer_create()!
            defer { opus_repacketizer_destroy(rp) }
            var out = [UInt8](repeating: 0, count: 2 * OpusEncoder.maxPacketBytes)
            let size: Int32 = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    guard opus_repacketizer_cat(rp, pa.baseAddress!, Int32(a.count)) == OPUS_OK,
                        opus_repacketizer_cat(rp, pb.baseAddress!, Int32(b.count)) == OPUS_OK
                    else { return -1 }
                    return out.withUnsafeMutableBufferPointer {
                        opus_repacketizer_out(rp, $0.baseAddress!, Int32($0.count))
                    }
                }
            }
            if size > 0 {
                packets.append(Array(out[0..<Int(size)]))
                joined += 1
            } else {
                packets += [a, b]
            }
        }
        XCTAssertGreaterThan(joined, packets60.count / 4, "most pairs joined into 120 ms packets")
        XCTAssertTrue(packets.contains { Ogg.opusDuration48k($0) == 5760 })
        let preSkip = encoder.preSkip48k
        var stream = Ogg.page(
            serial: 77, sequence: 0, granule: 0, bos: true,
            packets: [Ogg.opusHead(channels: 1, preSkip: preSkip, rate: 48_000)])
        stream += Ogg.page(serial: 77, sequence: 1, granule: 0, packets: [Ogg.opusTags()])
        var granule: Int64 = 0
        for (i, p) in packets.enumerated() {
            granule += Int64(Ogg.opusDuration48k(p)!)
            let last = i == packets.count - 1
            stream += Ogg.page(
                serial: 77, sequence: UInt32(i + 2), granule: last ? Int64(preSkip + pcm.count) : granule, eos: last,
                packets: [p])
        }
        let path = dir.appendingPathComponent("120ms.opus").path
        try TestFiles.write(stream, path)
        try Tools.assertOpusinfoClean(path)
        let d120 = try decodeWhole(stream)
        XCTAssertEqual(d120.errors, 0)
        XCTAssertEqual(d120.pcm.count, pcm.count)
        XCTAssertEqual(d120.present.prefix(150), ArraySlice(repeating: true, count: 150), "a 20 ms frame every tick")
        assertMatches(pcm, d120.pcm, label: "120 ms packets")
    }

    func testTruncatedFileDecodesWhatItHasAndReportsTheCut() throws {
        let pcm = Signal.speechLike(rate: 48_000, frames: 144_000)
        let bytes = try libraryStream(pcm)
        let cutAt = bytes.count * 6 / 10 + 17
        // Where the page that the cut falls into starts, found by walking the page headers.
        var pageStart = 0
        for page in Ogg.pages(bytes) {
            let length = 27 + page.lacing.count + page.body.count
            if pageStart + length > cutAt { break }
            pageStart += length
        }
        XCTAssertGreaterThan(cutAt, pageStart, "the cut falls inside a page")
        var decoded = Decoded()
        let lines = try captureLog { decoded = try decodeWhole(Array(bytes.prefix(cutAt))) }
        XCTAssertGreaterThan(decoded.pcm.count, pcm.count / 2)
        XCTAssertLessThan(decoded.pcm.count, pcm.count * 7 / 10)
        XCTAssertGreaterThan(Analysis.correlation(pcm, decoded.pcm, window: 0..<(decoded.pcm.count - 960)), 0.9)
        XCTAssertEqual(decoded.errors, 1, "the cut is one error")
        let expected = "truncated Ogg stream: \(cutAt - pageStart) bytes of an incomplete page at end of input"
        XCTAssertEqual(
            lines.filter { $0.contains("truncated Ogg stream") }, ["[warning] decode: \(expected)"],
            lines.joined(separator: "\n"))
        XCTAssertFalse(lines.contains { $0.contains("corrupt Ogg Opus input") }, "the cut is not reported twice")
    }

    func testWholeStreamReportsNoTruncation() throws {
        let pcm = Signal.speechLike(rate: 48_000, frames: 48_000)
        var decoded = Decoded()
        let lines = try captureLog { decoded = try decodeWhole(try libraryStream(pcm)) }
        XCTAssertEqual(decoded.errors, 0)
        XCTAssertEqual(lines, [])
    }

    /// Missing pages (sequence gaps) and pages of another logical stream are damage too: each counts once.
    func testSequenceGapsAndForeignPagesAreCounted() throws {
        let pcm = Signal.speechLike(rate: 48_000, frames: 144_000)
        let pages = Ogg.pages(try libraryStream(pcm))
        func raw(_ p: OggPage) -> [UInt8] {
            Ogg.page(
                serial: p.serial, sequence: p.sequence, granule: p.granule, bos: p.isBOS, eos: p.isEOS,
                packets: [p.body])
        }
        var gapped: [UInt8] = []
        for (i, page) in pages.enumerated() where ![20, 40, 60].contains(i) { gapped += raw(page) }
        let withGaps = try decodeWhole(gapped)
        XCTAssertEqual(withGaps.errors, 3, "three lost pages")
        XCTAssertEqual(withGaps.pcm.count, pcm.count, "lost pages are concealed")

        var mixed: [UInt8] = []
        for (i, page) in pages.enumerated() {
            mixed += raw(page)
            if i == 30 || i == 50 {
                mixed += Ogg.page(serial: 0xBAD, sequence: UInt32(i), granule: 0, packets: [[1, 2, 3, 4]])
            }
        }
        let withForeign = try decodeWhole(mixed)
        XCTAssertEqual(withForeign.errors, 2, "two pages of a stream that is not the one being decoded")
        XCTAssertEqual(withForeign.pcm.count, pcm.count)
        assertMatches(pcm, withForeign.pcm, label: "foreign pages skipped")
    }

    /// Ongoing damage is logged again after every 50 more errors, not only the first time.
    func testCorruptionIsLoggedAgainEvery50Errors() throws {
        let pcm = Signal.speechLike(rate: 48_000, frames: 48_000 * 4)
        let pages = Ogg.pages(try libraryStream(pcm))
        var ticks: [[[UInt8]]] = []
        for (i, page) in pages.enumerated() {
            var bytes = Ogg.page(
                serial: page.serial, sequence: page.sequence, granule: page.granule, bos: page.isBOS,
                eos: page.isEOS, packets: [page.body])
            if (10..<130).contains(i) {
                // A scrambled body under the old CRC: a corrupt page. No 'O' in it, so no false capture pattern.
                let scrambled = page.body.map { b -> UInt8 in b ^ 0x5A == 0x4F ? 0x20 : b ^ 0x5A }
                bytes = Array(bytes[0..<(bytes.count - scrambled.count)]) + scrambled
            }
            ticks.append([bytes])
        }
        var decoded = Decoded()
        let lines = try captureLog { decoded = try decode(ticks) }
        XCTAssertEqual(decoded.errors, 120, "one error per damaged page")
        let counts = lines.filter { $0.contains("corrupt Ogg Opus input") }.compactMap { line -> Int? in
            guard let open = line.firstIndex(of: "("), let space = line[open...].firstIndex(of: " ") else { return nil }
            return Int(line[line.index(after: open)..<space])
        }
        XCTAssertEqual(counts, [1, 51, 101], lines.joined(separator: "\n"))
    }

    /// The fuzzing issue's reproducer (a granule near Int64.max, then another audio page) used to trap the process:
    /// the node now counts and logs the bad granule and plays every packet.
    func testGranuleNearInt64MaxIsAnErrorNotACrash() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let bytes = try TestFiles.bytes(root.appendingPathComponent("fixtures/findings/ogg-granule-overflow.opus").path)
        var decoded = Decoded()
        let lines = try captureLog { decoded = try decodeWhole(bytes) }
        XCTAssertEqual(decoded.errors, 1)
        // 2568 samples (three 20 ms packets less the 312-sample pre-skip) make three frames, the last one padded.
        XCTAssertEqual(decoded.pcm.count, 3 * 960)
        XCTAssertEqual(decoded.pcm[2568...].filter { $0 != 0 }.count, 0, "only the padding is silent at the end")
        XCTAssertTrue(
            lines.contains { $0.contains("granule position 9223372036854775552") }, lines.joined(separator: "\n"))
    }

    func testLeadingGarbageIsCountedAndSkipped() throws {
        let pcm = Signal.speechLike(rate: 48_000, frames: 144_000)
        var rng = Signal.Random(seed: 5)
        // Random bytes without any 'O', so no capture pattern can appear by chance.
        let clean = (0..<1500).map { _ -> UInt8 in
            let b = UInt8(truncatingIfNeeded: rng.next() >> 7)
            return b == 0x4F ? 0x20 : b
        }
        let decoded = try decodeWhole(clean + (try libraryStream(pcm)))
        XCTAssertEqual(decoded.pcm.count, pcm.count)
        XCTAssertGreaterThanOrEqual(decoded.errors, 1, "garbage before the stream is counted in metrics.errors")
        assertMatches(pcm, decoded.pcm, label: "after leading garbage")
    }

    func testCorruptPageIsCountedAndLaterAudioDecodes() throws {
        let pcm = Signal.speechLike(rate: 48_000, frames: 144_000)
        var bytes = try libraryStream(pcm)
        // Flip one byte in the body of the 40th page (CRC now wrong).
        let pages = Ogg.pages(bytes)
        var offset = 0
        for page in pages[0..<40] { offset += 27 + page.lacing.count + page.body.count }
        bytes[offset + 27 + pages[40].lacing.count + 5] ^= 0x5A
        let decoded = try decodeWhole(bytes)
        XCTAssertGreaterThanOrEqual(decoded.errors, 1)
        XCTAssertEqual(decoded.pcm.count, pcm.count, "the lost 20 ms is concealed, so the timeline is kept")
        XCTAssertGreaterThan(
            Analysis.correlation(pcm, decoded.pcm, window: 48_000..<143_000), 0.9, "audio after the damage")
    }

    func testInvalidPacketsAreCountedAndLaterAudioDecodes() throws {
        let pcm = Signal.speechLike(rate: 48_000, frames: 144_000)
        let pages = Ogg.pages(try libraryStream(pcm))
        var stream: [UInt8] = []
        for (i, page) in pages.enumerated() {
            var packets = [page.body]
            if (30..<33).contains(i) { packets = [[0xFF, 0xFF, 0xFF]] }
            stream += Ogg.page(
                serial: page.serial, sequence: page.sequence, granule: page.granule, bos: page.isBOS,
                eos: page.isEOS, packets: packets)
        }
        let decoded = try decodeWhole(stream)
        XCTAssertGreaterThanOrEqual(decoded.errors, 3, "three invalid packets counted")
        XCTAssertEqual(decoded.pcm.count, pcm.count, "the invalid packets' time is concealed")
        XCTAssertGreaterThan(
            Analysis.correlation(pcm, decoded.pcm, window: 48_000..<143_000), 0.9, "audio after the damage")
    }

    /// prebuffer holds playback until that much audio is queued (and again after an underrun).
    /// Latency is measured on the session's clock, which a test injects: a page the encoder stamped at T comes out
    /// as PCM when the clock says T + 35 ms, and that is exactly what the decoder records.
    func testLatencyStampsAreReadOnTheInjectedClock() throws {
        let clock = ManualClock()
        let encoder = try NodeHarness<OpusOggEncode>(
            params: ["rate": "24000", "channels": "1"],
            inputs: ["in": .pcm(.personaPlex)], clock: clock)
        let decoder = try NodeHarness<Decode>(
            params: ["rate": "24000", "channels": "1", "apply_pre_skip": "false"],
            inputs: ["in": MediaFormat(.ogg)], clock: clock)
        let stampedAt = clock.nowNanoseconds()
        encoder.pcmInput().write { frame in for i in 0..<frame.count { frame[i] = 0.3 * sin(Float(i) * 0.1) } }
        try encoder.tick()
        let pages = encoder.packetOutput()
        XCTAssertGreaterThan(pages.count, 0)
        for i in 0..<pages.count {
            XCTAssertEqual(pages.stamp(at: i), stampedAt, "the encoder stamps its pages with the clock's time")
            decoder.packetInput().append(pages[i])
            decoder.packetInput().stampLast(pages.stamp(at: i))
        }
        clock.advance(nanoseconds: 35 * Nanoseconds.perMillisecond)
        try decoder.tick()
        XCTAssertNotNil(decoder.pcmOutput().frame)
        XCTAssertEqual(decoder.node.pageToFirstFrame.count, 1, "one audio page (the header pages carry no samples)")
        XCTAssertEqual(decoder.node.pageToFirstFrame.maxValue, 35_000_000)
    }

    func testPrebufferAndUnderrun() throws {
        let pcm = Signal.speechLike(rate: 48_000, frames: 48_000 * 4)
        let pages = Ogg.pages(try libraryStream(pcm))
        func raw(_ p: OggPage) -> [UInt8] {
            Ogg.page(
                serial: p.serial, sequence: p.sequence, granule: p.granule, bos: p.isBOS, eos: p.isEOS,
                packets: [p.body])
        }
        // Headers and one 20 ms page per tick for 100 ticks, a 30-tick stall, then the rest one page per tick.
        var ticks: [[[UInt8]]] = [[raw(pages[0]), raw(pages[1])]]
        var next = 2
        for t in 0..<400 {
            if t >= 100 && t < 130 {
                ticks.append([])
                continue
            }
            ticks.append(next < pages.count ? [raw(pages[next])] : [])
            next += 1
        }
        let decoded = try decode(ticks, params: ["prebuffer": "200ms"])
        let first = try XCTUnwrap(decoded.present.firstIndex(of: true))
        XCTAssertTrue((9...12).contains(first), "first frame after ~200 ms of audio arrived (tick \(first))")
        // During the stall the buffer runs dry, then playback waits for 200 ms again.
        let stallGap = decoded.present[100...].firstIndex(of: false)!
        let resumed = decoded.present[stallGap...].firstIndex(of: true)!
        XCTAssertGreaterThan(stallGap, 105, "the prebuffered audio covers the start of the stall")
        XCTAssertGreaterThanOrEqual(resumed, 130 + 9, "playback waits to re-buffer after the underrun")
        XCTAssertGreaterThanOrEqual(decoded.underruns, 1)
        XCTAssertEqual(decoded.drops, 0)
        XCTAssertEqual(decoded.pcm.count, pcm.count, "nothing lost")
    }

    /// max_buffer drops the oldest audio (counted) when a backlog arrives at once; playback continues with the newest.
    func testMaxBufferDropsOldestAudio() throws {
        let pcm = Signal.speechLike(rate: 48_000, frames: 144_000)
        let decoded = try decodeWhole(try libraryStream(pcm), params: ["max_buffer": "500ms"])
        XCTAssertGreaterThan(decoded.drops, 50, "backlog beyond 500 ms dropped")
        XCTAssertLessThanOrEqual(decoded.maxQueueDepth, 24_000 + 5_760)
        XCTAssertEqual(
            decoded.pcm.count + decoded.drops * 960, pcm.count, "every frame either played or counted as dropped")
        let tail = Array(pcm.suffix(decoded.pcm.count))
        XCTAssertGreaterThan(Analysis.correlation(tail, decoded.pcm), 0.9, "what plays is the newest audio")
    }
}
