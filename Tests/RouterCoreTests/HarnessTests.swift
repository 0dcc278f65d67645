import Realtime
import XCTest

@testable import RouterCore

/// `NodeHarness` gives a node what a session gives it: `start()` first, the session's own events, end of stream as
/// the runtime propagates it, explicit formats, a `finish()` that fails on unread output, and a virtual clock.
final class HarnessTests: XCTestCase {
    func testStartsTheNodeAndDeliversTheSessionsEvents() throws {
        let harness = try NodeHarness<TestSource>(params: ["frames": "0"], inputs: ["control": MediaFormat(.event)])
        XCTAssertEqual(harness.node.startCount, 0, "nothing happens before the first tick")
        try harness.tick()
        XCTAssertEqual(harness.node.startCount, 1, "started before its first tick")
        XCTAssertEqual(harness.node.received.map(\.event), [.sessionStarted])
        try harness.tick(2)
        XCTAssertEqual(harness.node.received.count, 1, "session started is delivered once")
        harness.requestStop()
        try harness.tick()
        XCTAssertEqual(harness.node.received.map(\.event), [.sessionStarted, .sessionStopping])
        XCTAssertEqual(harness.node.received.last?.tick, 3, "in the tick after the request")
        XCTAssertEqual(harness.node.startCount, 1)
        harness.stop()
        harness.stop()
        XCTAssertEqual(harness.node.stopCount, 1, "stopped once")
    }

    /// An unlinked event input still hears the session, as every event input of a graph does.
    func testAnUndeclaredEventInputStillGetsTheSessionsEvents() throws {
        let harness = try NodeHarness<TestSink>(inputs: ["in": .pcm(.stereo48k)])
        try harness.tick()
        XCTAssertEqual(harness.node.received.map(\.event), [.sessionStarted])
    }

    func testAPassThroughOutputNeedsItsInputFormat() throws {
        XCTAssertThrowsError(try NodeHarness<TestPass>()) { error in
            XCTAssertEqual(
                "\(error)", "the format of TestPass.out follows input 'in': give that input's format in `inputs:`")
        }
        XCTAssertThrowsError(try NodeHarness<TestPass>(inputs: ["in": MediaFormat(.pcm)])) { error in
            XCTAssertTrue("\(error)".hasPrefix("give the PCM format of TestPass.in"), "\(error)")
        }
        XCTAssertThrowsError(try NodeHarness<TestPass>(inputs: ["in": MediaFormat(.ogg)])) { error in
            XCTAssertEqual("\(error)", "TestPass.in takes PCM, not Ogg Opus")
        }
        XCTAssertThrowsError(try NodeHarness<TestPass>(inputs: ["in": .pcm(.stereo48k), "nope": .pcm(.stereo48k)])) {
            XCTAssertEqual("\($0)", "TestPass has no input 'nope'")
        }
    }

    /// A node that still holds output when the test finishes fails the test: here a two-tick tail nobody read.
    func testFinishFailsOnOutputTheTestNeverRead() throws {
        let harness = try NodeHarness<TestPass>(params: ["drain_ticks": "2"], inputs: ["in": .pcm(.stereo48k)])
        harness.pcmInput().write { $0.update(repeating: 0.25) }
        try harness.tick()
        XCTAssertThrowsError(try harness.finish()) { error in
            XCTAssertEqual(
                "\(error)",
                "TestPass kept undrained output after its inputs ended: 1 item(s) on TestPass.out, "
                    + "isDrained is false; tick until it drains and read it before finish()")
        }
        XCTAssertEqual(harness.node.stopCount, 1, "stopped even so")
    }

    func testFinishPassesOnceTheTailWasRead() throws {
        let harness = try NodeHarness<TestPass>(params: ["drain_ticks": "2"], inputs: ["in": .pcm(.stereo48k)])
        harness.pcmInput().write { $0.update(repeating: 0.25) }
        try harness.tick()
        harness.endInput()
        var tail: [Float?] = []
        while !harness.isFinished {
            try harness.tick()
            tail.append(harness.pcmOutput().frame?.first)
        }
        XCTAssertEqual(tail, [-1, -1])
        XCTAssertTrue(harness.pcmOutput().ended, "its output ends once it drained, as in a session")
        try harness.finish()
        XCTAssertEqual(harness.node.stopCount, 1)
        let processed = harness.metrics.itemsOut
        try harness.tick()
        XCTAssertEqual(harness.metrics.itemsOut, processed, "a finished node is not called again")
    }

    func testASourceMustHaveEndedToFinish() throws {
        let endless = try NodeHarness<TestSource>(params: ["frames": "0"])
        try endless.tick()
        XCTAssertThrowsError(try endless.finish())
        let short = try NodeHarness<TestSource>(params: ["frames": "2"])
        try short.tick(3)
        XCTAssertTrue(short.isFinished)
        try short.finish()
    }

    /// Ticks start at the harness clock's time; advancing it is how a test moves time for a node.
    func testTheClockIsTheTestsToMove() throws {
        let clock = ManualClock(startNanoseconds: 7_000)
        let harness = try NodeHarness<TestSink>(inputs: ["in": .pcm(.stereo48k)], clock: clock)
        try harness.tick()
        clock.advance(nanoseconds: Tick.nanoseconds)
        try harness.tick()
        try harness.tick()
        XCTAssertEqual(harness.node.tickStarts, [7_000, 7_000 + 20_000_000, 7_000 + 20_000_000])
        XCTAssertTrue(harness.clock === clock)
    }
}

/// A pass-through whose input is optional: with the input unlinked, its PCM output has no format to take.
final class TestMonitor: NodeType {
    static let typeName = "TestMonitor"
    static let summary = "Test pass-through with an optional input."
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [InputSpec("in", .pcm, required: false, doc: "Optional PCM.")],
            outputs: [OutputSpec("out", .pcm, sameAs: "in", doc: "Same as in.")])
    }
    init(_ setup: NodeSetup) throws {}
    func process(_ tick: Tick) throws {}
}

/// The engine guesses no PCM format (it names no transport): a pass-through output whose input is unlinked is an
/// error in validation, linked or not, instead of a lane in some default format.
final class UnknownFormatTests: XCTestCase {
    private func validate(_ yaml: String) throws -> ValidatedPipeline {
        var registry = NodeRegistry()
        registry.register(TestMonitor.self)
        registry.register(TestSink.self)
        return try PipelineValidator(registry: registry).validate(
            yaml: yaml, file: "t.yaml", environment: PipelineEnvironment([:]))
    }

    func testAnUnlinkedPassThroughOutputIsRefused() {
        XCTAssertThrowsError(try validate("nodes:\n  mon: {type: TestMonitor}\n")) { error in
            let messages = (error as? PipelineErrors)?.diagnostics.map(\.message) ?? []
            XCTAssertEqual(messages, ["the format of mon.out follows mon.in, which is not linked"])
        }
        XCTAssertThrowsError(
            try validate("nodes:\n  mon: {type: TestMonitor}\n  sink: {type: TestSink}\nlinks: [mon -> sink]\n")
        ) {
            let messages = ($0 as? PipelineErrors)?.diagnostics.map(\.message) ?? []
            XCTAssertEqual(messages, ["the format of mon.out follows mon.in, which is not linked"])
        }
    }
}
