import Foundation
import Nodes
import PersonaPlex
import RouterCore
import XCTest

/// Link states as they appear on the event lane (what greetings, encoders and gates react to), not in the log.
final class LinkEventTests: BridgeTestCase {
    /// The link states emitted on a harness link's event output this tick.
    private func linkStates(_ harness: NodeHarness<PersonaPlexLink>) -> [LinkState] {
        harness.eventOutput("events").events.compactMap {
            if case .linkState(let s) = $0 { return s } else { return nil }
        }
    }

    private func link(_ url: String) throws -> NodeHarness<PersonaPlexLink> {
        try NodeHarness<PersonaPlexLink>(
            params: ["url": url, "text_prompt": "You are a test."],
            inputs: ["audio": MediaFormat(.ogg)])
    }

    /// Ticks the harnesses in real time (20 ms) until `done` holds; fails after `seconds`.
    private func tick(
        _ harnesses: [NodeHarness<PersonaPlexLink>], seen: inout [[LinkState]], within seconds: Double,
        until done: ([[LinkState]]) -> Bool
    ) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !done(seen) {
            guard Date() < deadline else { throw NodeError("timed out; events so far: \(seen)") }
            for (i, h) in harnesses.enumerated() {
                try h.tick()
                seen[i] += linkStates(h)
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// The one mapping from client states to the event lane: every state the client can publish has exactly one
    /// meaning for the graph, and the states that are not link states (idle, closing, the ambiguous busy notice) put
    /// nothing on the lane.
    func testClientStatesMapOntoLinkStatesOnce() {
        let cases: [(PersonaPlexState, LinkState?)] = [
            (.idle, nil), (.connecting, .connecting), (.waitingForServer(.heldByThisProcess), .waiting),
            (.upgraded, .warmingUp), (.waitingForServer(.serverBusyOrWarmingUp), nil), (.live, .live),
            (.closing, nil), (.closed, .closed),
            (
                .failed(.handshakeTimeout(seconds: 1)),
                .failed(PersonaPlexError.handshakeTimeout(seconds: 1).description)
            ),
        ]
        for (state, expected) in cases { XCTAssertEqual(LinkState(personaPlex: state), expected, "\(state)") }
    }

    /// A second link started while the first holds the server's single-session lock: waiting first (the lock is
    /// known to be held), warming up once the first session ended, then live; each ends with closed.
    func testSecondLinkEventSequenceIsConnectingWaitingWarmingUpLiveClosed() throws {
        let peer = try SphnPeer(["--prompt-steps", "30"])
        let first = try link(peer.url), second = try link(peer.url)
        var seen: [[LinkState]] = [[], []]
        // The second link is not started (and so not ticked: a session starts every node before its first tick)
        // until the first is live.
        var firstSeen = [seen[0]]
        try tick([first], seen: &firstSeen, within: 10) { $0[0].contains(.live) }
        seen[0] = firstSeen[0]
        try second.start()
        // The second link is upgraded at once but queued behind the first: it must say so, and stay queued.
        try tick([first, second], seen: &seen, within: 5) { $0[1].contains(.waiting) }
        for _ in 0..<25 {
            try first.tick()
            try second.tick()
            seen[0] += linkStates(first)
            seen[1] += linkStates(second)
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertEqual(seen[1], [.connecting, .waiting], "still queued while the first session is open")
        first.endInput("audio")
        try tick([first, second], seen: &seen, within: 10) { $0[0].contains(.closed) && $0[1].contains(.live) }
        second.endInput("audio")
        try tick([first, second], seen: &seen, within: 10) { $0[1].contains(.closed) }
        first.stop()
        second.stop()
        XCTAssertEqual(seen[0], [.connecting, .warmingUp, .live, .closed])
        XCTAssertEqual(seen[1], [.connecting, .waiting, .warmingUp, .live, .closed])
        XCTAssertEqual(peer.waitForStats(2).map { stat($0, "early_messages") }, [0, 0])
    }

    /// At a normal end (the input file has been played) the link closes the session and `closed` reaches the
    /// nodes linked to its events before the session completes.
    func testClosedReachesTheEventLaneWhenTheInputEnds() throws {
        let peer = try SphnPeer()
        let input = "\(dir!)/speech.wav"
        try writeSpeechLikeWAV(input, seconds: 1.5)
        var registry = NodeRegistry.standard
        registry.register(EventRecorder.self)
        let yaml = bridgeYAML(url: peer.url, input: input, tail: "0s") + "\n  - ai.events -> recorder\n"
        let withRecorder = yaml.replacingOccurrences(of: "links:", with: "  recorder: {type: EventRecorder}\nlinks:")
        let pipeline = try PipelineValidator(registry: registry).validate(
            yaml: withRecorder, file: "bridge.yaml", environment: PipelineEnvironment([:]))
        let s = Session(graph: try Graph(pipeline))
        XCTAssertEqual(run(s, seconds: 15), .completed)
        let recorder = try XCTUnwrap(s.graph.node(named: "recorder") as? EventRecorder)
        XCTAssertEqual(recorder.linkStates, [.connecting, .warmingUp, .live, .closed])
        XCTAssertEqual(peer.waitForStats(1).first.map { $0["end"] as? String }, "client closed")
    }
}

/// Test node: records every event it receives.
final class EventRecorder: NodeType {
    static let typeName = "EventRecorder"
    static let summary = "test: records events"
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(inputs: [InputSpec("in", .event, doc: "events")])
    }
    private let input: EventInput
    private(set) var events: [GraphEvent] = []
    var linkStates: [LinkState] {
        events.compactMap { if case .linkState(let s) = $0 { return s } else { return nil } }
    }
    init(_ setup: NodeSetup) throws { input = setup.eventInput("in") }
    func process(_ tick: Tick) throws { input.forEach { events.append($0) } }
}
