import XCTest

@testable import RouterCore

/// Lane buffers, the latency histogram, and the single-node and whole-graph harnesses.
final class LanesMetricsTests: XCTestCase {
    func testPacketLaneGrowsKeepsItemsAndIsReused() {
        let lane = PacketLane(format: MediaFormat(.opus), label: "enc.out", initialBytes: 16)
        lane.beginTick()
        lane.append([1, 2, 3])
        lane.append([])
        let big = (0..<100).map { UInt8($0) }
        lane.append(big)  // beyond 16 bytes: the slab grows, earlier items are kept
        lane.append(maxBytes: 64) { room in
            room[0] = 9
            room[1] = 8
            return 2
        }
        XCTAssertEqual(lane.count, 4)
        XCTAssertEqual(lane.itemCount, 4)
        XCTAssertEqual(lane.byteCount, 105)
        XCTAssertEqual(Array(lane[0]), [1, 2, 3])
        XCTAssertEqual(Array(lane[1]), [])
        XCTAssertEqual(Array(lane[2]), big)
        XCTAssertEqual(Array(lane[3]), [9, 8])
        lane.beginTick()
        XCTAssertEqual(lane.count, 0)
        XCTAssertEqual(lane.byteCount, 0)
        lane.append([7])
        XCTAssertEqual(Array(lane[0]), [7], "the next tick starts again at the front of the same slab")
        XCTAssertEqual(lane.count, 1)
    }

    func testPCMStreamsLaneCapacity() {
        let lane = PCMStreamsLane(pcm: PCMFormat(sampleRate: 8_000, channels: 1), capacity: 2, label: "rx.streams")
        lane.beginTick()
        XCTAssertTrue(lane.append(id: 11) { $0.update(repeating: 0.5) })
        XCTAssertTrue(lane.append(id: 22) { $0.update(repeating: -0.5) })
        var called = false
        XCTAssertFalse(lane.append(id: 33) { _ in called = true }, "full: the third speaker is refused")
        XCTAssertFalse(called, "and its body is not run")
        XCTAssertEqual(lane.count, 2)
        XCTAssertEqual([lane.id(at: 0), lane.id(at: 1)], [11, 22])
        XCTAssertEqual(lane.frame(at: 0).count, 160)
        XCTAssertEqual(Set(lane.frame(at: 0)), [0.5])
        XCTAssertEqual(Set(lane.frame(at: 1)), [-0.5])
        lane.beginTick()
        XCTAssertEqual(lane.count, 0)
        XCTAssertTrue(lane.append(id: 33) { $0.update(repeating: 1) })
    }

    func testPCMLanePresenceAndEnd() {
        let lane = PCMLane(pcm: PCMFormat(sampleRate: 24_000, channels: 1), label: "x.out")
        XCTAssertNil(lane.frame)
        lane.write { $0.update(repeating: 0.25) }
        XCTAssertEqual(lane.frame?.count, 480)
        XCTAssertEqual(lane.itemCount, 1)
        lane.beginTick()
        XCTAssertNil(lane.frame, "a tick without a write carries no frame")
        lane.writeSilence()
        XCTAssertEqual(Set(lane.frame!), [0])
        XCTAssertFalse(lane.ended)
        lane.finish()
        XCTAssertTrue(lane.ended)
    }

    func testEventLaneIsDoubleBuffered() {
        let lane = EventLane(label: "ai.events")
        lane.emit(.linkState(.live))
        XCTAssertEqual(lane.events, [], "not visible in the tick it was emitted")
        lane.rotate()
        XCTAssertEqual(lane.events, [.linkState(.live)])
        lane.rotate()
        XCTAssertEqual(lane.events, [], "delivered once")
    }

    func testHistogramPercentilesOfAUniformDistribution() {
        var h = LatencyHistogram()
        XCTAssertEqual(h.percentile(0.5), 0, "empty")
        for us in 1...1000 { h.record(UInt64(us) * 1000) }
        XCTAssertEqual(h.count, 1000)
        XCTAssertEqual(h.maxValue, 1_000_000)
        XCTAssertEqual(h.mean, 500_500, accuracy: 0.5)
        // 16 sub-buckets per power of two: a bucket is at most 1/16 of its lower bound wide.
        for (fraction, exact) in [(0.5, 500_000.0), (0.9, 900_000.0), (0.99, 990_000.0), (0.1, 100_000.0)] {
            let p = Double(h.percentile(fraction))
            XCTAssertEqual(p, exact, accuracy: exact / 16 + 1, "p\(Int(fraction * 100))")
        }
        XCTAssertLessThanOrEqual(h.percentile(1.0), h.maxValue, "never above the maximum recorded")
        XCTAssertEqual(Double(h.percentile(1.0)), 1_000_000, accuracy: 1_000_000 / 16)
        h.reset()
        XCTAssertEqual(h.count, 0)
        XCTAssertEqual(h.percentile(0.99), 0)
    }

    func testHistogramOfABimodalDistribution() {
        var h = LatencyHistogram()
        for _ in 0..<95 { h.record(20_000) }
        for _ in 0..<5 { h.record(5_000_000) }
        XCTAssertEqual(Double(h.percentile(0.5)), 20_000, accuracy: 20_000 / 16)
        XCTAssertEqual(Double(h.percentile(0.95)), 20_000, accuracy: 20_000 / 16)
        XCTAssertEqual(Double(h.percentile(0.96)), 5_000_000, accuracy: 5_000_000 / 16)
        XCTAssertEqual(h.percentile(0.999), 5_000_000, "capped at the max")
    }

    func testHistogramBucketsAreMonotonicAndTight() {
        var previous = -1
        for v: UInt64 in [0, 1, 2, 15, 16, 17, 31, 32, 33, 1000, 1023, 1024, 123_456_789, UInt64(1) << 40] {
            let i = LatencyHistogram.index(of: v)
            XCTAssertGreaterThanOrEqual(i, previous)
            previous = i
            let low = LatencyHistogram.lowerBound(of: i), high = LatencyHistogram.lowerBound(of: i + 1)
            XCTAssertTrue(low <= max(v, 1) && max(v, 1) < high, "\(v) in [\(low), \(high))")
            XCTAssertLessThanOrEqual(Double(high - low), Double(max(low, 16)) / 16 + 1)
        }
    }

    func testNodeHarnessDrivesOneNode() throws {
        let harness = try NodeHarness<TestPass>(
            params: ["drain_ticks": "1"],
            inputs: ["in": .pcm(PCMFormat(sampleRate: 16_000, channels: 1))])
        harness.pcmInput().write { $0.update(repeating: 0.5) }
        try harness.tick()
        XCTAssertEqual(harness.pcmOutput().frame?.count, 320, "output follows the input's format")
        XCTAssertEqual(harness.pcmOutput().frame?.first, 0.5)
        try harness.tick()
        XCTAssertNil(harness.pcmOutput().frame, "inputs are cleared after each tick")
        harness.endInput()
        try harness.tick()
        XCTAssertEqual(harness.pcmOutput().frame?.first, -1, "the tail after the end")
        XCTAssertTrue(harness.node.isDrained)
        XCTAssertEqual(harness.tickIndex, 3)
    }

    func testNodeHarnessEventsAndErrors() throws {
        let harness = try NodeHarness<TestSink>(inputs: ["in": .pcm(.stereo48k), "control": MediaFormat(.event)])
        harness.eventInput("control").emit(.streamRestart)
        try harness.tick()
        XCTAssertEqual(
            harness.node.received.map(\.tick), [0, 0], "an event emitted before a tick reaches the node in that tick")
        XCTAssertEqual(
            harness.node.received.map(\.event), [.sessionStarted, .streamRestart],
            "after the session's own event, as in a graph")
        XCTAssertEqual(
            harness.eventOutput("events").events, [.warning("sink 0")], "outputs are readable right after the tick")
        XCTAssertThrowsError(try NodeHarness<TestSink>(params: ["nope": "1"])) {
            XCTAssertEqual("\($0)", "TestSink has no parameter 'nope'")
        }
        XCTAssertThrowsError(try NodeHarness<TestSource>(params: ["rate": "12"])) {
            XCTAssertEqual("\($0)", "'rate' must be in 8000...192000, not 12")
        }
        let failing = try NodeHarness<TestPass>(params: ["fail_at": "0"], inputs: ["in": .pcm(.stereo48k)])
        XCTAssertThrowsError(try failing.tick()) { XCTAssertEqual("\($0)", "test failure at tick 0") }
    }

    func testEmbeddedSessionRunsAPipeline() throws {
        let e = try EmbeddedSession(
            yaml: "nodes:\n  src: {type: TestSource, frames: 2}\n  sink: {type: TestSink}\nlinks: [src -> sink]\n",
            registry: testRegistry)
        XCTAssertEqual(e.pipeline.nodes.map(\.name), ["src", "sink"])
        XCTAssertEqual(try e.runUntilFinished(), 3)
        XCTAssertEqual((e.session.graph.node(named: "sink") as? TestSink)?.frames, [0, 1, nil])
        e.stop()
        XCTAssertEqual((e.session.graph.node(named: "src") as? TestSource)?.stopCount, 1)
        let endless = try EmbeddedSession(
            yaml: "nodes:\n  src: {type: TestSource, frames: 0}\n  sink: {type: TestSink}\nlinks: [src -> sink]\n",
            registry: testRegistry)
        XCTAssertThrowsError(try endless.runUntilFinished(maxTicks: 50)) {
            XCTAssertEqual("\($0)", "session did not finish within 50 ticks")
        }
        XCTAssertThrowsError(try EmbeddedSession(yaml: "nodes: {}\n", registry: testRegistry)) { error in
            XCTAssertTrue(error is PipelineErrors, "\(error)")
        }
    }
}
