import Synchronization
import XCTest

@testable import RouterCore

/// What every `TestTickWatcher` of a session did, in order (handed to the nodes as a session resource).
final class TickJournal: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// Pass-through that writes "process NAME N" to the session's `TickJournal` in `process`, and (with `observe`)
/// registers as a `TickObserver` writing "end NAME N".
final class TestTickWatcher: NodeType, TickObserver {
    static let typeName = "TestTickWatcher"
    static let summary = "Test pass-through that journals its ticks and tick ends."
    static let parameters: [ParameterSpec] = [
        .optional("observe", .bool, default: .bool(true), "Register as a tick observer.")
    ]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [InputSpec("in", .pcm, doc: "Any PCM.")],
            outputs: [OutputSpec("out", .pcm, sameAs: "in", doc: "Same as in.")])
    }

    let input: PCMInput
    let output: PCMLane
    let name: String
    let journal: TickJournal

    init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        output = setup.pcmOutput("out")
        name = setup.name
        guard let journal = setup.resources.get(TickJournal.self) else { throw NodeError("no TickJournal") }
        self.journal = journal
        if setup.params.bool("observe")! { setup.observeTickEnd(self) }
    }

    func process(_ tick: Tick) throws {
        journal.append("process \(name) \(tick.index)")
        if let frame = input.frame {
            output.write { out in for i in 0..<min(out.count, frame.count) { out[i] = frame[i] } }
        }
    }

    func tickDidEnd(_ tick: Tick) { journal.append("end \(name) \(tick.index)") }
}

/// `TickObserver`: called once per tick after the last node, in every tick (also once the node finished), and not
/// in a tick that failed.
final class TickObserverTests: XCTestCase {
    private func session(_ yaml: String, journal: TickJournal) throws -> EmbeddedSession {
        var registry = testRegistry
        registry.register(TestTickWatcher.self)
        var resources = SessionResources()
        resources.insert(journal)
        return try EmbeddedSession(yaml: yaml, registry: registry, resources: resources)
    }

    func testObserversRunOnceAfterTheWholeTickInRegistrationOrder() throws {
        let journal = TickJournal()
        let e = try session(
            """
            nodes:
              src: {type: TestSource, frames: 2}
              first: {type: TestTickWatcher}
              second: {type: TestTickWatcher, observe: false}
              third: {type: TestTickWatcher}
              sink: {type: TestSink}
            links:
              - src -> first -> second -> third -> sink
            """, journal: journal)
        try e.tick(2)
        XCTAssertEqual(
            journal.all,
            [
                "process first 0", "process second 0", "process third 0", "end first 0", "end third 0",
                "process first 1", "process second 1", "process third 1", "end first 1", "end third 1",
            ])
        // The source ends in tick 2, so the watchers finish in that tick and are not processed after it; their
        // observers still run in every tick.
        try e.tick(2)
        XCTAssertTrue(e.session.isFinished)
        XCTAssertEqual(Array(journal.all.suffix(2)), ["end first 2", "end third 2"])
        try e.session.tick()
        XCTAssertEqual(Array(journal.all.suffix(3)), ["end third 2", "end first 3", "end third 3"])
    }

    func testATickInWhichANodeThrewCallsNoObserver() throws {
        let journal = TickJournal()
        let e = try session(
            """
            nodes:
              src: {type: TestSource, frames: 0}
              watch: {type: TestTickWatcher}
              failing: {type: TestPass, fail_at: 1}
              sink: {type: TestSink}
            links:
              - src -> watch -> failing -> sink
            """, journal: journal)
        try e.tick()
        XCTAssertThrowsError(try e.tick())
        XCTAssertEqual(journal.all, ["process watch 0", "end watch 0", "process watch 1"])
    }

    func testTheHarnessCallsTheObserverAfterProcessInEveryTick() throws {
        let journal = TickJournal()
        var resources = SessionResources()
        resources.insert(journal)
        let harness = try NodeHarness<TestTickWatcher>(
            inputs: ["in": .pcm(PCMFormat(sampleRate: 48_000, channels: 1))], resources: resources)
        harness.pcmInput().write { $0.update(repeating: 0.5) }
        try harness.tick()
        harness.endInput()
        try harness.tick()
        try harness.tick()
        XCTAssertEqual(
            journal.all,
            [
                "process testtickwatcher 0", "end testtickwatcher 0", "process testtickwatcher 1",
                "end testtickwatcher 1",
                "end testtickwatcher 2",
            ])
        _ = harness.pcmOutput().frame
        try harness.finish()
    }
}
