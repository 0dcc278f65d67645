import Foundation
import Realtime
import XCTest

/// `RealtimeRing` of optional values (the form state changes and log lines take): reference-counted values, order,
/// and the full-ring policy, on one thread and across two.
final class RealtimeRingValueTests: XCTestCase {
    func testFirstInFirstOutAndAFullRingRefusesTheNewest() {
        let ring = RealtimeRing<String?>(capacity: 3)
        XCTAssertNil(ring.pop() as String?)
        XCTAssertTrue(ring.push("a"))
        XCTAssertTrue(ring.push("b"))
        XCTAssertTrue(ring.push("c"))
        XCTAssertFalse(ring.push("d"), "full: the newest is refused")
        XCTAssertEqual(ring.dropped, 1)
        XCTAssertEqual(ring.count, 3)
        XCTAssertEqual(ring.pop(), "a")
        XCTAssertTrue(ring.push("e"), "room again after a pop")
        XCTAssertEqual([ring.pop(), ring.pop(), ring.pop(), ring.pop()], ["b", "c", "e", nil])
        XCTAssertEqual(ring.count, 0)
        XCTAssertEqual(ring.dropped, 1)
    }

    /// A popped value leaves the ring: the ring keeps no reference to it (its slot returns to nil).
    func testPopReleasesTheValue() {
        final class Payload: Sendable {}
        let ring = RealtimeRing<Payload?>(capacity: 2)
        weak var observed: Payload?
        do {
            let payload = Payload()
            observed = payload
            XCTAssertTrue(ring.push(payload))
        }
        XCTAssertNotNil(observed, "held by the ring while queued")
        var taken: Payload? = ring.pop()
        XCTAssertNotNil(taken)
        taken = nil
        XCTAssertNil(observed, "released once popped and dropped by the consumer")
        _ = taken
    }

    /// One producer and one consumer thread: every value arrives once, in order, across many wrap-arounds (1,500 of
    /// them; a ring of 64 keeps the threads from yielding to each other every few values, which on a loaded 2-core
    /// machine costs a time slice each).
    func testProducerAndConsumerThreadsLoseAndReorderNothing() {
        let ring = RealtimeRing<Int?>(capacity: 64)
        let total = 100_000
        let producer = Thread {
            var next = 0
            while next < total {
                if ring.push(next) { next += 1 } else { sched_yield() }
            }
        }
        producer.start()
        var expected = 0
        let deadline = Date().addingTimeInterval(120)
        while expected < total && Date() < deadline {
            if let value: Int = ring.pop() {
                XCTAssertEqual(value, expected)
                if value != expected { break }
                expected += 1
            } else {
                sched_yield()
            }
        }
        XCTAssertEqual(expected, total)
        XCTAssertNil(ring.pop() as Int?)
    }
}
