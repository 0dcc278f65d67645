import Foundation
import Nodes
import RouterCore
import XCTest

/// The latency stamps carried across nodes (the hand-off between threads is `RealtimeRing`, tested in RealtimeTests).
final class LatencyStampTests: XCTestCase {
    func testLatencyStampRingReleasesStampsOnceTheirSampleIsOut() {
        var ring = LatencyStampRing(capacity: 2)
        ring.push(position: 0, stamp: 10)
        ring.push(position: 1920, stamp: 20)
        ring.push(position: 3840, stamp: 30)
        XCTAssertEqual(ring.overflows, 1)
        var released: [UInt64] = []
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
