import XCTest

@testable import PersonaPlex

/// The inbox and the send-timing ring shared between the event loop and the graph thread.
final class BufferTests: XCTestCase {
    func testInboxKeepsTheOldestAndCountsDropsPerKind() {
        let inbox = PersonaPlexInbox(capacity: 3)
        for index in 0..<5 {
            inbox.append(PersonaPlexMessage(kind: .audio, payload: [UInt8(index)], receivedAtNanos: UInt64(index)))
        }
        inbox.append(PersonaPlexMessage(kind: .text, payload: Array(" Hi".utf8), receivedAtNanos: 9))
        var out: [PersonaPlexMessage] = [PersonaPlexMessage(kind: .text, payload: [], receivedAtNanos: 0)]
        inbox.drain(into: &out)
        XCTAssertEqual(out.map { $0.payload }, [[0], [1], [2]], "the header pages come first and must survive")
        let counters = inbox.snapshot
        XCTAssertEqual(counters.audioReceived, 5)
        XCTAssertEqual(counters.audioDropped, 2)
        XCTAssertEqual(counters.textReceived, 1)
        XCTAssertEqual(counters.textDropped, 1)

        inbox.append(PersonaPlexMessage(kind: .text, payload: Array(" Hi".utf8), receivedAtNanos: 10))
        inbox.drain(into: &out)
        XCTAssertEqual(out.compactMap { $0.text }, [" Hi"])
        inbox.drain(into: &out)
        XCTAssertTrue(out.isEmpty)
    }

    func testTimingRingOverwritesTheOldestAndReportsIt() {
        let ring = PersonaPlexTimingRing(capacity: 2)
        let timings = (1...3).map {
            PersonaPlexSendTiming(requestedAtNanos: UInt64($0), writtenAtNanos: UInt64($0) + 5, bytes: $0)
        }
        XCTAssertEqual(timings.map { ring.record($0) }, [false, false, true])
        var out: [PersonaPlexSendTiming] = []
        ring.drain(into: &out)
        XCTAssertEqual(out, Array(timings.suffix(2)))
        XCTAssertEqual(out[0].queueDelayNanos, 5)
        out.removeAll()
        ring.drain(into: &out)
        XCTAssertTrue(out.isEmpty)
    }
}
