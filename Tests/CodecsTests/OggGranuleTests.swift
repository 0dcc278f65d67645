import Foundation
import XCTest

@testable import Codecs

/// Granule positions come from the wire: implausible ones must cost a page its timing, never the process.
final class OggGranuleTests: XCTestCase {
    /// `Tests/fixtures/findings/NAME` (this file is Tests/CodecsTests/OggGranuleTests.swift).
    static func finding(_ name: String) throws -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        return Array(try Data(contentsOf: root.appendingPathComponent("fixtures/findings/\(name)")))
    }

    /// The fuzzing issue's reproducer: page 2 carries granule Int64.max - 255, page 3 follows with 1920. The
    /// decoder used to adopt the huge granule as its stream position and trap adding the next packet's duration.
    func testGranuleNearInt64MaxIsCountedAndTheAudioStillDecodes() throws {
        let bytes = try Self.finding("ogg-granule-overflow.opus")
        for chunk in [1, 37, bytes.count] {
            let decoder = try OggOpusDecoder()
            let output = decodeAll(bytes, with: decoder, chunkSizes: [chunk])
            let stats = decoder.reader.statistics
            XCTAssertEqual(stats.packets, 3)
            XCTAssertEqual(stats.invalidGranulePositions, 1, "chunk \(chunk)")
            XCTAssertEqual(decoder.reader.lastError, .invalidGranulePosition(Int64.max - 255))
            XCTAssertEqual(decoder.decodeErrors, 0)
            XCTAssertEqual(decoder.concealedSamples, 0, "a dropped granule is not a gap")
            // Three 20 ms packets less the header's 312-sample pre-skip: every packet's audio is kept.
            XCTAssertEqual(output.count, 3 * 960 - 312, "chunk \(chunk)")
        }
    }

    /// Every granule the reader passes on is -1 or within 0...maxGranulePosition, whatever the page says.
    func testReaderDropsNegativeAndHugeGranules() throws {
        let head = OpusHead(channels: 1, preSkip: 0).encoded()
        let tags = Array("OpusTags".utf8) + [UInt8](repeating: 0, count: 8)
        let silence: [UInt8] = [0xF8, 0xFF, 0xFE]  // one 20 ms CELT silence frame
        let granules: [Int64] = [
            960, -2, Int64.min, OggOpusStreamReader.maxGranulePosition,
            OggOpusStreamReader.maxGranulePosition + 1, Int64.max, -1, 8000,
        ]
        var bytes = makeOggPage(serial: 5, sequence: 0, granule: 0, flags: 0x02, packets: [head])
        bytes += makeOggPage(serial: 5, sequence: 1, granule: 0, flags: 0, packets: [tags])
        for (index, granule) in granules.enumerated() {
            let last = index == granules.count - 1
            bytes += makeOggPage(
                serial: 5, sequence: UInt32(index + 2), granule: granule, flags: last ? 0x04 : 0,
                packets: [silence])
        }
        let reader = OggOpusStreamReader()
        bytes.withUnsafeBytes { reader.push($0) }
        var seen: [Int64] = []
        while let event = reader.next() {
            if case let .packet(packet) = event { seen.append(packet.granulePosition) }
        }
        XCTAssertEqual(seen, [960, -1, -1, OggOpusStreamReader.maxGranulePosition, -1, -1, -1, 8000])
        XCTAssertEqual(reader.statistics.invalidGranulePositions, 4)
        XCTAssertEqual(reader.lastError, .invalidGranulePosition(Int64.max))

        // The decoder follows the same pages without trapping: the jump to 2^62 is concealed for at most 120 ms
        // and re-timed, and the EOS granule far behind that position trims nothing.
        let decoder = try OggOpusDecoder()
        let output = decodeAll(bytes, with: decoder)
        XCTAssertEqual(decoder.concealedSamples, 5760)
        XCTAssertEqual(output.count, granules.count * 960 + 5760)
    }
}
