import Foundation
import Nodes
import RouterCore
import XCTest

/// The lock-free hand-off between a network thread and the tick thread, and the latency stamps carried across nodes.
final class BoundedQueueTests: XCTestCase {
    func testFirstInFirstOutAndAFullQueueDropsTheNewest() {
        let queue = BoundedQueue<String>(capacity: 3)
        XCTAssertNil(queue.pop())
        XCTAssertTrue(queue.push("a"))
        XCTAssertTrue(queue.push("b"))
        XCTAssertTrue(queue.push("c"))
        XCTAssertFalse(queue.push("d"), "full: the newest is refused")
        XCTAssertEqual(queue.dropped, 1)
        XCTAssertEqual(queue.count, 3)
        XCTAssertEqual(queue.pop(), "a")
        XCTAssertTrue(queue.push("e"), "room again after a pop")
        XCTAssertEqual([queue.pop(), queue.pop(), queue.pop(), queue.pop()], ["b", "c", "e", nil])
        XCTAssertEqual(queue.count, 0)
        XCTAssertEqual(queue.dropped, 1)
    }

    /// One producer and one consumer thread: every item arrives once, in order, across many wrap-arounds.
    func testProducerAndConsumerThreadsLoseAndReorderNothing() {
        let queue = BoundedQueue<Int>(capacity: 8)
        let total = 200_000
        let producer = Thread {
            var next = 0
            while next < total {
                if queue.push(next) { next += 1 } else { sched_yield() }
            }
        }
        producer.start()
        var expected = 0
        let deadline = Date().addingTimeInterval(30)
        while expected < total && Date() < deadline {
            if let value = queue.pop() {
                XCTAssertEqual(value, expected)
                if value != expected { break }
                expected += 1
            } else {
                sched_yield()
            }
        }
        XCTAssertEqual(expected, total)
        XCTAssertNil(queue.pop())
    }

    func testLatencyStampRingReleasesStampsOnceTheirSampleIsOut() {
        var ring = LatencyStampRing(capacity: 2)
        ring.push(position: 0, stamp: 10)
        ring.push(position: 1920, stamp: 20)
        ring.push(position: 3840, stamp: 30)
        XCTAssertEqual(ring.overflows, 1)
        var released: [Int64] = []
        ring.popAll(before: 480) { released.append($0) }
        XCTAssertEqual(released, [10])
        ring.popAll(before: 1920) { released.append($0) }
        XCTAssertEqual(released, [10], "the page starting at 1920 is not in a frame ending at 1920")
        ring.popAll(before: 2400) { released.append($0) }
        XCTAssertEqual(released, [10, 20])
        XCTAssertEqual(ring.count, 0)
    }

    func testPacketLaneStampsAreParallelToItemsAndClearedEveryTick() throws {
        let harness = try NodeHarness<TextRelay>(params: ["sink": "none"], inputs: ["in": MediaFormat(.text)])
        let lane = harness.packetInput()
        lane.append(Array(" a".utf8))
        lane.append(Array(" b".utf8))
        lane.stampLast(42)
        lane.append(Array(" c".utf8))
        XCTAssertEqual([lane.stamp(at: 0), lane.stamp(at: 1), lane.stamp(at: 2)], [0, 42, 0])
        try harness.tick()
        XCTAssertEqual(lane.count, 0)
        lane.append(Array(" d".utf8))
        XCTAssertEqual(lane.stamp(at: 0), 0, "last tick's stamps are gone")
    }
}
