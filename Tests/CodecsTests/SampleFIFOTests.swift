import XCTest

@testable import Codecs

final class SampleFIFOTests: XCTestCase {
    func testWrapAroundKeepsOrderAndCapacity() {
        let fifo = SampleFIFO(capacity: 5)
        var out = [Float](repeating: 0, count: 5)
        XCTAssertEqual([1, 2, 3].withUnsafeBufferPointer { fifo.write($0) }, 3)
        XCTAssertEqual(
            out.withUnsafeMutableBufferPointer { fifo.read(into: UnsafeMutableBufferPointer(rebasing: $0[0..<2])) }, 2)
        XCTAssertEqual(Array(out[0..<2]), [1, 2])
        XCTAssertEqual([4, 5, 6, 7, 8].withUnsafeBufferPointer { fifo.write($0) }, 4, "only free space is used")
        XCTAssertEqual(fifo.count, 5)
        XCTAssertEqual(fifo.discard(1), 1)
        XCTAssertEqual(fifo.writeZeros(3), 1)
        XCTAssertEqual(fifo.discardNewest(1), 1)
        XCTAssertEqual(out.withUnsafeMutableBufferPointer { fifo.read(into: $0) }, 4)
        XCTAssertEqual(Array(out[0..<4]), [4, 5, 6, 7])
        XCTAssertEqual(fifo.count, 0)
    }

    func testMultichannelOggOpusIsRejectedAsInvalidHeader() throws {
        var head = OpusHead(channels: 6, preSkip: 312).encoded()
        head[18] = 1
        head += [4, 2, 0, 4, 1, 2, 3, 5]  // family 1 stream/coupling counts and mapping table
        let bytes = makeOggPage(serial: 4, sequence: 0, granule: 0, flags: 0x02, packets: [head])
        let reader = OggOpusStreamReader()
        bytes.withUnsafeBytes { reader.push($0) }
        XCTAssertNil(reader.next())
        XCTAssertEqual(reader.statistics.invalidHeaders, 1)
        XCTAssertTrue("\(reader.lastError!)".contains("6-channel"), "\(reader.lastError!)")
    }

    func testEncoderFinishValidatesRemainder() throws {
        let encoder = try OggOpusEncoder(encoder: OpusEncoder(sampleRate: 16_000, channels: 2), serial: 1)
        let tooLong = [Float](repeating: 0, count: 320 * 2)
        XCTAssertThrowsError(try tooLong.withUnsafeBufferPointer { try encoder.finish(remainder: $0) })
        let odd = [Float](repeating: 0, count: 3)
        XCTAssertThrowsError(try odd.withUnsafeBufferPointer { try encoder.finish(remainder: $0) })
        try encoder.finish()
        XCTAssertTrue(encoder.writer.isFinished)
        XCTAssertEqual(encoder.writer.granulePosition, Int64(encoder.encoder.preSkip48k), "empty stream: only pre-skip")
    }
}
