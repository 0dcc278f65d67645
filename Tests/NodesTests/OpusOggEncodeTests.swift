import Codecs
import Foundation
import Nodes
import RouterCore
import XCTest

final class OpusOggEncodeTests: XCTestCase {
    override func setUp() { quietLog(self) }

    struct Encoded {
        var bytes: [UInt8] = []
        /// Ogg items (pages) produced in each tick.
        var itemsPerTick: [Int] = []
        /// Every output item's bytes, in order.
        var items: [[UInt8]] = []
        var serialParam: String?
    }

    /// Runs the encoder node on `input` (20 ms per tick; `nil` frames are ticks without a frame), emitting `events`
    /// on its control input before the given ticks, then ends the input.
    private func encode(
        _ input: [[Float]?], format: PCMFormat = .personaPlex, params: [String: String] = [:],
        events: [Int: [GraphEvent]] = [:]
    ) throws -> Encoded {
        var p = ["rate": String(format.sampleRate), "channels": String(format.channels)]
        for (k, v) in params { p[k] = v }
        let h = try NodeHarness<OpusOggEncode>(params: p, inputs: ["in": .pcm(format), "control": MediaFormat(.event)])
        var result = Encoded()
        func collect() {
            let lane = h.packetOutput()
            for i in 0..<lane.count {
                XCTAssertGreaterThan(lane[i].count, 0)
                result.bytes += Array(lane[i])
                result.items.append(Array(lane[i]))
            }
            result.itemsPerTick.append(lane.count)
        }
        for (t, frame) in input.enumerated() {
            for e in events[t] ?? [] { h.eventInput("control").emit(e) }
            if let frame { h.pcmInput().write { _ = $0.update(fromContentsOf: frame) } }
            try h.tick()
            collect()
        }
        h.endInput()
        try h.tick()
        collect()
        try h.tick()
        XCTAssertEqual(h.packetOutput().count, 0, "nothing after the end")
        return result
    }

    private func speechFrames(seconds: Double, format: PCMFormat = .personaPlex) -> (pcm: [Float], frames: [[Float]?]) {
        let pcm = Signal.speechLike(
            rate: format.sampleRate, frames: Int(seconds * Double(format.sampleRate)), channels: format.channels)
        return (pcm, frames(of: pcm, samplesPerFrame: format.samplesPerFrame))
    }

    /// Independent structural checks of one logical stream's pages (RFC 3533 / RFC 7845).
    private func checkStream(
        _ pages: [OggPage], channels: Int, inputRate: Int, inputSamples: Int?, frameMs: Double = 20,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        guard pages.count >= 3 else { return XCTFail("only \(pages.count) pages", file: file, line: line) }
        let serial = pages[0].serial
        for (i, page) in pages.enumerated() {
            XCTAssertEqual(page.storedCRC, page.computedCRC, "CRC of page \(i)", file: file, line: line)
            XCTAssertEqual(page.serial, serial, "serial of page \(i)", file: file, line: line)
            XCTAssertEqual(page.sequence, UInt32(i), "page sequence number", file: file, line: line)
            XCTAssertEqual(page.isBOS, i == 0, "BOS only on the first page", file: file, line: line)
            XCTAssertEqual(page.isEOS, i == pages.count - 1, "EOS only on the last page", file: file, line: line)
        }
        // OpusHead alone on the BOS page.
        let head = pages[0].body
        XCTAssertEqual(pages[0].lacing, [19], file: file, line: line)
        XCTAssertEqual(Array(head.prefix(8)), Array("OpusHead".utf8), file: file, line: line)
        XCTAssertEqual(head[8], 1, "version", file: file, line: line)
        XCTAssertEqual(Int(head[9]), channels, "channels", file: file, line: line)
        let preSkip = Int(head[10]) | Int(head[11]) << 8
        let expectedPreSkip = try? OpusEncoder(sampleRate: inputRate, channels: channels, application: .audio)
            .preSkip48k
        XCTAssertEqual(preSkip, expectedPreSkip, "pre-skip = encoder lookahead at 48 kHz", file: file, line: line)
        XCTAssertTrue((80...3840).contains(preSkip), file: file, line: line)
        let rate = Int(head[12]) | Int(head[13]) << 8 | Int(head[14]) << 16 | Int(head[15]) << 24
        XCTAssertEqual(rate, inputRate, "input sample rate", file: file, line: line)
        XCTAssertEqual(head[16], 0, "output gain", file: file, line: line)
        XCTAssertEqual(head[17], 0, "output gain", file: file, line: line)
        XCTAssertEqual(head[18], 0, "mapping family", file: file, line: line)
        XCTAssertEqual(pages[0].granule, 0, file: file, line: line)
        // OpusTags alone on the second page, well formed.
        let tags = pages[1].body
        XCTAssertEqual(Array(tags.prefix(8)), Array("OpusTags".utf8), file: file, line: line)
        let vendorLength = Int(tags[8]) | Int(tags[9]) << 8 | Int(tags[10]) << 16 | Int(tags[11]) << 24
        XCTAssertEqual(tags.count, 8 + 4 + vendorLength + 4, "OpusTags with no comments", file: file, line: line)
        XCTAssertEqual(pages[1].granule, 0, file: file, line: line)
        XCTAssertEqual(pages[1].completedPackets, 1, file: file, line: line)
        // Audio: every packet non-empty with the configured duration; granules monotonic in 48 kHz units and equal to
        // pre-skip + output samples.
        let packets = Ogg.packets(Array(pages[2...]))
        var position: Int64 = 0
        var lastGranule: Int64 = 0
        for (i, packet) in packets.enumerated() {
            XCTAssertGreaterThan(packet.data.count, 0, "packet \(i) empty", file: file, line: line)
            let duration = Ogg.opusDuration48k(packet.data)
            XCTAssertEqual(duration, Int(frameMs * 48), "packet \(i) duration", file: file, line: line)
            position += Int64(duration ?? 0)
            if packet.granule >= 0 {
                XCTAssertGreaterThanOrEqual(packet.granule, lastGranule, "granule monotonic", file: file, line: line)
                if i < packets.count - 1 {
                    XCTAssertEqual(
                        packet.granule, position, "granule = samples through this page", file: file, line: line)
                }
                lastGranule = packet.granule
            }
        }
        XCTAssertEqual(pages.last!.granule, lastGranule, file: file, line: line)
        if let inputSamples {
            XCTAssertEqual(
                pages.last!.granule, Int64(preSkip + inputSamples * 48_000 / inputRate),
                "final granule = pre-skip + input length (sample-exact end)", file: file, line: line)
            XCTAssertLessThanOrEqual(pages.last!.granule, position, file: file, line: line)
        }
    }

    /// The written stream passes opusinfo, decodes with opusdec to the input's length, and sounds like the input.
    func testStreamPassesOpusinfoAndDecodesWithOpusdec() throws {
        let dir = try TestFiles.directory(self)
        let (pcm, input) = speechFrames(seconds: 3)
        let encoded = try encode(input)
        let path = dir.appendingPathComponent("speech.opus").path
        try TestFiles.write(encoded.bytes, path)
        try Tools.assertOpusinfoClean(path)
        let (channels, decoded) = try Tools.opusdec(path, rate: 24_000, in: dir)
        XCTAssertEqual(channels, 1)
        XCTAssertEqual(decoded.count, pcm.count, "opusdec output length == input length")
        let best = Analysis.bestLag(pcm, decoded, in: -100...100)
        XCTAssertEqual(best.lag, 0)
        XCTAssertGreaterThan(best.correlation, 0.9)
        print("OpusOggEncode -> opusdec: lag \(best.lag), correlation \(String(format: "%.4f", best.correlation))")
    }

    func testHeadersCRCsAndGranules() throws {
        let (pcm, input) = speechFrames(seconds: 2)
        let pages = Ogg.pages(try encode(input).bytes)
        checkStream(pages, channels: 1, inputRate: 24_000, inputSamples: pcm.count)
        // Stereo 48 kHz as well.
        let stereo = speechFrames(seconds: 1, format: .discord)
        checkStream(
            Ogg.pages(try encode(stereo.frames, format: .discord).bytes), channels: 2, inputRate: 48_000,
            inputSamples: stereo.pcm.count / 2)
    }

    func testSerialFixedOrRandom() throws {
        let (_, input) = speechFrames(seconds: 0.5)
        let fixed = Ogg.pages(try encode(input, params: ["serial": "3735928559"]).bytes)
        XCTAssertTrue(fixed.allSatisfy { $0.serial == 3_735_928_559 })
        let a = Ogg.pages(try encode(input).bytes), b = Ogg.pages(try encode(input).bytes)
        XCTAssertNotEqual(a[0].serial, 0)
        XCTAssertNotEqual(a[0].serial, b[0].serial, "serial 0 picks a random serial per stream")
    }

    /// stream-restart mid-stream ends the first logical stream (EOS) and starts a new one with a new BOS and serial;
    /// the file is a valid chained Ogg Opus stream that opusinfo accepts and opusdec plays to the end.
    func testStreamRestartMakesAChainedStream() throws {
        let dir = try TestFiles.directory(self)
        for serial in ["0", "4242"] {
            let (pcm, input) = speechFrames(seconds: 2)
            let encoded = try encode(
                input, params: ["serial": serial], events: [50: [.streamRestart], 75: [.warning("ignored")]])
            let pages = Ogg.pages(encoded.bytes)
            let starts = pages.indices.filter { pages[$0].isBOS }
            XCTAssertEqual(starts.count, 2, "serial \(serial): two logical streams")
            guard starts.count == 2 else { continue }
            let first = Array(pages[..<starts[1]]), second = Array(pages[starts[1]...])
            XCTAssertNotEqual(
                first[0].serial, second[0].serial, "serial \(serial): a chained stream needs a new serial (RFC 3533)")
            if serial != "0" {
                XCTAssertEqual(first[0].serial, 4242)
                XCTAssertEqual(second[0].serial, 4243, "a fixed serial counts up on restart")
            }
            XCTAssertTrue(first.last!.isEOS, "the first stream ends with EOS")
            // The restart drops nothing the encoder had accepted before it; ticks 50... start the new stream.
            checkStream(second, channels: 1, inputRate: 24_000, inputSamples: pcm.count - 50 * 480)
            let path = dir.appendingPathComponent("chained-\(serial).opus").path
            try TestFiles.write(encoded.bytes, path)
            let info = try Tools.assertOpusinfoClean(path)
            XCTAssertTrue(info.contains("New logical stream"), info)
            let (_, decoded) = try Tools.opusdec(path, rate: 24_000, in: dir)
            XCTAssertEqual(
                Double(decoded.count), Double(pcm.count), accuracy: 960, "serial \(serial): the whole chain decodes")
            // The second stream ends sample-exactly, so the tails line up.
            XCTAssertGreaterThan(
                Analysis.correlation(Array(pcm.suffix(12_000)), Array(decoded.suffix(12_000))), 0.9,
                "second stream audio")
            for (i, page) in first.enumerated() {
                XCTAssertEqual(page.storedCRC, page.computedCRC)
                XCTAssertEqual(page.sequence, UInt32(i))
                XCTAssertEqual(page.serial, first[0].serial)
            }
        }
    }

    func testPacketsPerPage() throws {
        let (pcm, input) = speechFrames(seconds: 1)
        let encoded = try encode(input, params: ["packets_per_page": "3"])
        let pages = Ogg.pages(encoded.bytes)
        checkStream(pages, channels: 1, inputRate: 24_000, inputSamples: pcm.count)
        for page in pages[2..<(pages.count - 1)] { XCTAssertEqual(page.completedPackets, 3) }
        XCTAssertLessThanOrEqual(pages.last!.completedPackets, 3)
        // A page leaves the node every third tick (the first tick also carries the two header pages).
        XCTAssertEqual(encoded.itemsPerTick[0], 2)
        XCTAssertEqual(Array(encoded.itemsPerTick[1..<12]), [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1])
    }

    /// pages_per_flush holds complete pages back and sends them together: every item is exactly that many whole
    /// pages (the last may be shorter), and the stream is byte for byte the one sent page by page.
    func testPagesPerFlushSendsGroupsOfCompletePages() throws {
        let (pcm, input) = speechFrames(seconds: 1)
        let pageByPage = try encode(input, params: ["serial": "4242"])
        XCTAssertTrue(pageByPage.items.allSatisfy { Ogg.pages($0).count == 1 }, "default: one page per item")
        let grouped = try encode(input, params: ["serial": "4242", "pages_per_flush": "4"])
        XCTAssertEqual(grouped.bytes, pageByPage.bytes, "grouping changes only how pages are split into items")
        checkStream(Ogg.pages(grouped.bytes), channels: 1, inputRate: 24_000, inputSamples: pcm.count)
        let pagesPerItem = grouped.items.map { Ogg.pages($0).count }
        XCTAssertGreaterThan(pagesPerItem.count, 10)
        XCTAssertEqual(Array(pagesPerItem.dropLast()), [Int](repeating: 4, count: pagesPerItem.count - 1))
        XCTAssertTrue((1...4).contains(pagesPerItem.last!), "the rest goes out when the input ends: \(pagesPerItem)")
        // Two header pages and one audio page per tick: the first group is complete after the second tick, then one
        // every fourth tick.
        XCTAssertEqual(Array(grouped.itemsPerTick[0..<10]), [0, 1, 0, 0, 0, 1, 0, 0, 0, 1])

        let both = try encode(input, params: ["serial": "4242", "packets_per_page": "2", "pages_per_flush": "3"])
        let bothPages = Ogg.pages(both.bytes)
        checkStream(bothPages, channels: 1, inputRate: 24_000, inputSamples: pcm.count)
        for page in bothPages[2..<(bothPages.count - 1)] { XCTAssertEqual(page.completedPackets, 2) }
        XCTAssertEqual(
            both.items.dropLast().map { Ogg.pages($0).count }, [Int](repeating: 3, count: both.items.count - 1))
    }

    /// Each `application` value reaches libopus as its own profile (voip was once silently encoded as audio).
    func testApplicationParameterSelectsTheOpusProfile() throws {
        for (name, expected) in [("voip", OpusApplication.voip), ("audio", .audio), ("lowdelay", .lowDelay)] {
            let h = try NodeHarness<OpusOggEncode>(params: ["application": name], inputs: ["in": .pcm(.personaPlex)])
            XCTAssertEqual(h.node.application, expected, name)
        }
    }

    func testFrameDurations() throws {
        let dir = try TestFiles.directory(self)
        for ms in [10, 20, 40, 60] {
            let (pcm, input) = speechFrames(seconds: 1.3)
            let encoded = try encode(input, params: ["frame_ms": String(ms)])
            let pages = Ogg.pages(encoded.bytes)
            checkStream(pages, channels: 1, inputRate: 24_000, inputSamples: pcm.count, frameMs: Double(ms))
            let path = dir.appendingPathComponent("frame\(ms).opus").path
            try TestFiles.write(encoded.bytes, path)
            try Tools.assertOpusinfoClean(path)
            let (_, decoded) = try Tools.opusdec(path, rate: 24_000, in: dir)
            XCTAssertEqual(decoded.count, pcm.count, "\(ms) ms")
            XCTAssertGreaterThan(Analysis.bestLag(pcm, decoded, in: 0...0).correlation, 0.9, "\(ms) ms")
        }
    }

    /// Silence, ticks without frames and a partial last frame never produce an empty packet; gaps produce no packet.
    func testNeverAnEmptyPacket() throws {
        let silence = [Float](repeating: 0, count: 480)
        var input: [[Float]?] = Array(repeating: silence, count: 30)
        for t in stride(from: 3, to: 30, by: 4) { input[t] = nil }
        let present = input.filter { $0 != nil }.count
        let pages = Ogg.pages(try encode(input).bytes)
        checkStream(pages, channels: 1, inputRate: 24_000, inputSamples: present * 480)
        let packets = Ogg.packets(Array(pages[2...]))
        XCTAssertTrue(packets.allSatisfy { !$0.data.isEmpty })
    }
}
