import Foundation
import Synchronization
import XCTest

@testable import RouterCore

/// The runtime under virtual time: fan-out, the event lane, end of stream, failures.
final class SessionTests: XCTestCase {
    private func embedded(_ yaml: String) throws -> EmbeddedSession {
        try EmbeddedSession(yaml: yaml, registry: testRegistry)
    }

    private func node<T>(_ e: EmbeddedSession, _ name: String, as: T.Type = T.self) throws -> T {
        try XCTUnwrap(e.session.graph.node(named: name) as? T)
    }

    func testFanOutReadsTheSameFrame() throws {
        let e = try embedded(
            """
            nodes:
              src: {type: TestSource, frames: 4}
              a: {type: TestSink}
              b: {type: TestSink}
              pass: {type: TestPass}
              c: {type: TestSink}
            links:
              - src -> a
              - src -> b
              - src -> pass -> c
            """)
        try e.tick(2)
        let a: TestSink = try node(e, "a"), b: TestSink = try node(e, "b"), c: TestSink = try node(e, "c")
        XCTAssertEqual(a.frames, [0, 1])
        XCTAssertEqual(b.frames, [0, 1])
        XCTAssertEqual(c.frames, [0, 1], "a pass-through delivers in the same tick (data-path order)")
        let lane = try XCTUnwrap(e.lane("src.out") as? PCMLane)
        XCTAssertIdentical(a.input.lanes.first, lane, "every consumer reads the producer's one buffer")
        XCTAssertIdentical(b.input.lanes.first, lane)
        XCTAssertEqual(lane.frame?.count, 1920, "48 kHz stereo: 960 samples per channel in 20 ms")
    }

    func testEventsArriveOneTickLaterBackwardsAndForwards() throws {
        let e = try embedded(
            """
            nodes:
              src: {type: TestSource, frames: 0}
              sink: {type: TestSink}
              watcher: {type: TestSink}
            links:
              - src -> sink
              - src -> watcher
              - sink.events -> src.control
              - sink.events -> watcher.control
            """)
        try e.tick(3)
        let src: TestSource = try node(e, "src"), watcher: TestSink = try node(e, "watcher")
        // sink emits "sink N" in tick N; src runs before sink (backwards link), watcher after it (forwards link).
        // The session's own start event reaches every event input in the first tick.
        XCTAssertEqual(
            src.received.map { "\($0.tick): \($0.event)" },
            ["0: session started", "1: warning: sink 0", "2: warning: sink 1"])
        XCTAssertEqual(
            watcher.received.map { "\($0.tick): \($0.event)" },
            ["0: session started", "1: warning: sink 0", "2: warning: sink 1"])
    }

    func testEndOfStreamPropagatesAndDrains() throws {
        let e = try embedded(
            """
            nodes:
              src: {type: TestSource, frames: 3}
              pass: {type: TestPass, drain_ticks: 2}
              sink: {type: TestSink}
            links:
              - src -> pass -> sink
            """)
        try e.tick(3)
        XCTAssertFalse(e.session.isFinished)
        XCTAssertFalse(try XCTUnwrap(e.lane("src.out")).ended)
        try e.tick()
        XCTAssertTrue(try XCTUnwrap(e.lane("src.out")).ended, "the source ended its lane in tick 3")
        XCTAssertFalse(try XCTUnwrap(e.lane("pass.out")).ended, "pass still holds its tail")
        XCTAssertFalse(e.session.isFinished)
        let ticks = try e.runUntilFinished(maxTicks: 10)
        XCTAssertEqual(
            ticks, 1, "the second tail tick drains pass, which ends its output; the sink finishes in the same tick")
        XCTAssertTrue(e.session.isFinished)
        XCTAssertTrue(try XCTUnwrap(e.lane("pass.out")).ended)
        let sink: TestSink = try node(e, "sink")
        XCTAssertEqual(sink.frames, [0, 1, 2, -1, -1])
        let before = e.session.tickIndex
        try e.tick(5)
        XCTAssertEqual(e.session.tickIndex, before, "EmbeddedSession.tick does nothing once finished")
        e.stop()
        XCTAssertEqual(sink.stopCount, 1)
    }

    func testEventOnlyNodesDoNotHoldTheSessionOpen() throws {
        let e = try embedded(
            "nodes:\n  src: {type: TestSource, frames: 2}\n  sink: {type: TestSink}\n  tap: {type: TestEventTap}\nlinks: [src -> sink, sink -> tap]\n"
        )
        XCTAssertEqual(try e.runUntilFinished(maxTicks: 10), 3)
        let tap: TestEventTap = try node(e, "tap")
        XCTAssertEqual(
            tap.events, [.sessionStarted, .warning("sink 0"), .warning("sink 1")], "it saw every event up to the end")
    }

    func testFinishedSessionRunsToCompletion() throws {
        let pipeline = try validate(
            "nodes:\n  src: {type: TestSource, frames: 5}\n  sink: {type: TestSink}\nlinks: [src -> sink]\n"
        ).get()
        let session = Session(graph: try Graph(pipeline))
        XCTAssertEqual(session.run(realtime: false), .completed)
        XCTAssertEqual(session.tickIndex, 6, "five frames, then the tick that ends the stream")
        let sink = try XCTUnwrap(session.graph.node(named: "sink") as? TestSink)
        XCTAssertEqual(sink.frames, [0, 1, 2, 3, 4, nil])
        XCTAssertEqual(sink.startCount, 1)
        XCTAssertEqual(sink.stopCount, 1)
    }

    func testNodeFailureEndsTheSessionAndStopsEveryNodeOnce() throws {
        let pipeline = try validate(
            """
            nodes:
              src: {type: TestSource, frames: 0}
              pass: {type: TestPass, fail_at: 4}
              sink: {type: TestSink}
            links:
              - src -> pass -> sink
            """
        ).get()
        let session = Session(graph: try Graph(pipeline))
        final class Lines: Sendable {
            let all = Mutex<[String]>([])
        }
        let logged = Lines()
        RouterLog.shared.setSink { line in logged.all.withLock { $0.append(line) } }
        defer { RouterLog.shared.setSink { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        let outcome = session.run(realtime: false, maxTicks: 100)
        XCTAssertEqual(
            logged.all.withLock { $0 }, [],
            "the failure is reported once, by whoever ran the session (router run prints it)")
        XCTAssertEqual(outcome, .failed(.nodeFailed(node: "pass", type: "TestPass", reason: "test failure at tick 4")))
        XCTAssertEqual(outcome.description, "failed: node 'pass' (TestPass) failed: test failure at tick 4")
        let src = try XCTUnwrap(session.graph.node(named: "src") as? TestSource)
        let pass = try XCTUnwrap(session.graph.node(named: "pass") as? TestPass)
        let sink = try XCTUnwrap(session.graph.node(named: "sink") as? TestSink)
        XCTAssertEqual(sink.frames, [0, 1, 2, 3], "the sink did not run in the failing tick")
        XCTAssertEqual([src.stopCount, pass.stopCount, sink.stopCount], [1, 1, 1])
        session.stop()
        XCTAssertEqual([src.stopCount, pass.stopCount, sink.stopCount], [1, 1, 1], "stop is idempotent")
    }

    func testStartFailureStopsOnlyTheNodesAlreadyStarted() throws {
        let pipeline = try validate(
            """
            nodes:
              first: {type: TestSource}
              broken: {type: TestSource, fail_start: true}
              sink: {type: TestSink}
              sink2: {type: TestSink}
            links:
              - first -> sink
              - broken -> sink2
            """
        ).get()
        let session = Session(graph: try Graph(pipeline))
        XCTAssertEqual(
            session.run(realtime: false),
            .failed(.nodeFailed(node: "broken", type: "TestSource", reason: "cannot open the test device")))
        let first = try XCTUnwrap(session.graph.node(named: "first") as? TestSource)
        let broken = try XCTUnwrap(session.graph.node(named: "broken") as? TestSource)
        let sink = try XCTUnwrap(session.graph.node(named: "sink") as? TestSink)
        XCTAssertEqual([first.startCount, first.stopCount], [1, 1])
        XCTAssertEqual([broken.startCount, broken.stopCount], [1, 0])
        XCTAssertEqual([sink.startCount, sink.stopCount], [0, 0])
        XCTAssertEqual(first.processCount, 0, "no tick ran")
    }

    func testMaxTicksStopsAFastRun() throws {
        let pipeline = try validate(
            "nodes:\n  src: {type: TestSource, frames: 0}\n  sink: {type: TestSink}\nlinks: [src -> sink]\n"
        ).get()
        let session = Session(graph: try Graph(pipeline))
        XCTAssertEqual(session.run(realtime: false, maxTicks: 7), .stopped)
        XCTAssertEqual(session.tickIndex, 7)
        XCTAssertEqual((session.graph.node(named: "sink") as? TestSink)?.frames.count, 7)
    }

    func testMetricsCountItems() throws {
        let e = try embedded(
            "nodes:\n  src: {type: TestSource, frames: 0}\n  pass: {type: TestPass}\n  sink: {type: TestSink}\nlinks: [src -> pass -> sink]\n"
        )
        try e.tick(10)
        let m = e.session.metrics
        XCTAssertEqual(m.map(\.nodeName), ["src", "pass", "sink"])
        XCTAssertEqual(m.map(\.itemsIn), [0, 10, 10])
        XCTAssertEqual(m[0].itemsOut, 10)
        XCTAssertEqual(m.map(\.processing.count), [10, 10, 10])
        let report = MetricsReport.render(m).split(separator: "\n").map(String.init)
        XCTAssertEqual(report.count, 4)
        XCTAssertTrue(report[0].hasPrefix("node  type        in  out  drops  errors  queue  p50 µs"), report[0])
        XCTAssertTrue(report[2].hasPrefix("pass  TestPass    10  10   0      0       0      "), report[2])
    }
}
