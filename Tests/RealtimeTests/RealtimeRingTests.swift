import Foundation
import Realtime
import XCTest

final class RealtimeRingTests: XCTestCase {
    func testValuesComeOutInOrderAndAFullRingRefusesAndCounts() {
        let ring = RealtimeRing<Int?>(capacity: 3)
        XCTAssertTrue(ring.push(1))
        XCTAssertTrue(ring.push(2))
        XCTAssertTrue(ring.push(3))
        XCTAssertFalse(ring.push(4))
        XCTAssertEqual(ring.dropped, 1)
        XCTAssertEqual(ring.count, 3)
        XCTAssertEqual(ring.pop(), 1)
        XCTAssertTrue(ring.push(5))
        var seen: [Int] = []
        XCTAssertEqual(ring.drain { seen.append($0.take()!) }, 3)
        XCTAssertEqual(seen, [2, 3, 5])
        XCTAssertNil(ring.pop() as Int?)
        XCTAssertEqual(ring.count, 0)
    }

    func testByteSlotsAreReusedWithoutGrowing() {
        let ring = RealtimeRing<ByteSlot>(capacity: 2, slotBytes: 64)
        let payload: [UInt8] = Array(0..<40)
        var capacities: Set<Int> = []
        for round in 0..<100 {
            payload.withUnsafeBytes { XCTAssertTrue(ring.push(bytes: $0, tag: UInt8(round % 3), stamp: UInt64(round))) }
            ring.pop { slot in
                XCTAssertEqual(slot.bytes, payload)
                XCTAssertEqual(slot.tag, UInt8(round % 3))
                XCTAssertEqual(slot.stamp, UInt64(round))
                capacities.insert(slot.bytes.capacity)
            }
        }
        XCTAssertEqual(capacities.count, 1, "a slot's storage is kept from one message to the next")
        XCTAssertGreaterThanOrEqual(capacities.first!, 64)
    }

    func testAFillThatThrowsPublishesNothing() {
        struct Refused: Error {}
        let ring = RealtimeRing<Int?>(capacity: 2)
        XCTAssertThrowsError(try ring.push { _ in throw Refused() })
        XCTAssertEqual(ring.count, 0)
        XCTAssertNil(ring.pop() as Int?)
    }

    func testDiscardKeepsTheNewest() {
        let ring = RealtimeRing<Int?>(capacity: 8)
        for v in 0..<6 { ring.push(v) }
        XCTAssertEqual(ring.discard(keepingNewest: 2), 4)
        XCTAssertEqual(ring.pop(), 4)
        XCTAssertEqual(ring.pop(), 5)
    }

    /// One producer thread and one consumer thread: every value arrives once, in order, with no torn payloads.
    func testOneProducerAndOneConsumerThreadLoseAndReorderNothing() {
        let ring = RealtimeRing<ByteSlot>(capacity: 256, slotBytes: 8)
        let total = 100_000
        let producer = Thread {
            var v = 0
            while v < total {
                let pushed = withUnsafeBytes(of: UInt64(v).littleEndian) { ring.push(bytes: $0, stamp: UInt64(v)) }
                if pushed { v += 1 } else { sched_yield() }  // full: let the consumer run (2 loaded cores)
            }
        }
        producer.start()
        var expected = 0
        var problems = 0
        while expected < total {
            let drained = ring.drain { slot in
                let value = slot.bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                if value != UInt64(expected) || slot.stamp != UInt64(expected) { problems += 1 }
                expected += 1
            }
            if drained == 0 { sched_yield() }
        }
        XCTAssertEqual(problems, 0)
        XCTAssertEqual(ring.count, 0)
    }

    func testManualClockMovesOnlyWhenTold() {
        let clock = ManualClock(startNanoseconds: 5)
        XCTAssertEqual(clock.nowNanoseconds(), 5)
        clock.advance(seconds: 0.5)
        XCTAssertEqual(clock.nowNanoseconds(), 500_000_005)
        let a = SystemClock.now()
        let b = SystemClock.shared.nowNanoseconds()
        XCTAssertGreaterThanOrEqual(b, a)
        XCTAssertEqual(Nanoseconds.adding(.max - 1, 5), Nanoseconds.never)
        XCTAssertEqual(Nanoseconds.elapsed(from: 10, to: 3), 0)
    }
}
