import Foundation
import Nodes
import PersonaPlex
import Realtime
import RouterCore
import XCTest

/// The link's hand-off to the event loop: pages are queued during `process` and the loop is woken once, after the
/// tick, only for a tick that queued pages (against the sphn peer on loopback).
final class LinkWakeUpTests: BridgeTestCase {
    /// Real encoder pages fed to a live link in bursts: every other tick carries two encoder ticks' pages, the tick
    /// between carries none. At most one wake-up per tick that carried pages (so never one per page, and never one
    /// for an empty tick), at least one, and every page reaches the server.
    func testOneWakeUpPerTickWithPagesAndNoneForTicksWithout() throws {
        let peer = try SphnPeer()
        let link = try NodeHarness<PersonaPlexLink>(
            params: ["url": peer.url, "text_prompt": "You are a test."], inputs: ["audio": MediaFormat(.ogg)])
        let deadline = Date().addingTimeInterval(15)
        while !link.node.isLive {
            guard Date() < deadline else { throw NodeError("the link did not go live") }
            try link.tick()
            Thread.sleep(forTimeInterval: 0.02)
        }
        // The encoder starts once the link is live, so its first item is a fresh stream's BOS page.
        let encoder = try NodeHarness<OpusOggEncode>(
            params: ["rate": "24000", "channels": "1"], inputs: ["in": .pcm(.personaPlex)])
        var held: [[UInt8]] = []
        var items = 0, ticksWithPages = 0, ticksWithout = 0
        for index in 0..<60 {
            encoder.pcmInput().write { pcm in
                for i in 0..<pcm.count { pcm[i] = 0.3 * sin(Float(index * pcm.count + i) * 0.05) }
            }
            try encoder.tick()
            let out = encoder.packetOutput()
            for i in 0..<out.count { held.append(Array(out[i])) }
            if index % 2 == 1 {
                for page in held { link.packetInput("audio").append(page) }
                items += held.count
                ticksWithPages += held.isEmpty ? 0 : 1
                ticksWithout += held.isEmpty ? 1 : 0
                held.removeAll()
            } else {
                ticksWithout += 1
            }
            try link.tick()
            _ = link.packetOutput("audio").count  // the echo is not what this test reads
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertGreaterThan(items, ticksWithPages, "some ticks carried several pages")
        XCTAssertGreaterThanOrEqual(ticksWithout, 30)
        link.endInput("audio")
        let closing = Date().addingTimeInterval(10)
        while !link.node.isDrained && Date() < closing {
            try link.tick()
            Thread.sleep(forTimeInterval: 0.02)
        }
        link.stop()
        let counters = link.node.lastCounters
        XCTAssertEqual(counters.audioSent, items, "every queued page was written")
        XCTAssertEqual(counters.sendFailures, 0)
        XCTAssertGreaterThanOrEqual(counters.wakeUps, 1)
        XCTAssertLessThanOrEqual(
            counters.wakeUps, ticksWithPages, "at most one wake-up per tick with pages, none for the others")
        let stats = try XCTUnwrap(peer.waitForStats(1).first)
        XCTAssertEqual(stat(stats, "messages_received"), items)
    }

    /// In a real graph the wake-up happens after the whole tick, never inside it: a node after the link in data-path
    /// order sees the wake-up count unchanged since the end of the previous tick, and at the end of the tick the
    /// count moved by at most one, and only in a tick whose encoder output the link forwarded. The encoder puts
    /// two packets in a page, so every other tick carries none.
    func testTheWakeUpComesAfterTheWholeTickAndOnlyForTicksWithPages() throws {
        let peer = try SphnPeer()
        let input = "\(dir!)/speech.wav"
        try writeSpeechLikeWAV(input, seconds: 4)
        var registry = NodeRegistry.standard
        registry.register(WakeUpProbe.self)
        let session = try EmbeddedSession(
            yaml: """
                nodes:
                  mic:    {type: WavIn, path: "\(input)", tail: 0s}
                  down:   {type: Resample, rate: 24000, channels: 1}
                  encode: {type: OpusOggEncode, rate: 24000, channels: 1, packets_per_page: 2}
                  ai:     {type: PersonaPlexLink, url: "\(peer.url)", text_prompt: "You are a test."}
                  probe:  {type: WakeUpProbe}
                links:
                  - mic -> down -> encode -> ai.audio
                  - ai.events -> encode.control
                  - encode -> probe.pages
                  - ai.audio -> probe.echo
                """, registry: registry, clock: SystemClock.shared)
        let link = try XCTUnwrap(session.session.graph.node(named: "ai") as? PersonaPlexLink)
        let probe = try XCTUnwrap(session.session.graph.node(named: "probe") as? WakeUpProbe)
        probe.link = link
        let deadline = Date().addingTimeInterval(20)
        while !session.session.isFinished && Date() < deadline {
            try session.tick()
            Thread.sleep(forTimeInterval: 0.02)
        }
        session.stop()
        XCTAssertTrue(session.session.isFinished, "the session ends with its input")
        let live = probe.ticks.filter { $0.live }
        XCTAssertGreaterThan(live.filter { $0.pages > 0 }.count, 20)
        XCTAssertGreaterThan(live.filter { $0.pages == 0 }.count, 20)
        for (previous, tick) in zip(probe.ticks, probe.ticks.dropFirst()) {
            XCTAssertEqual(tick.atProcess, previous.atEnd, "tick \(tick.index): no wake-up inside the tick")
        }
        for tick in probe.ticks {
            let woken = tick.atEnd - tick.atProcess
            XCTAssertLessThanOrEqual(woken, tick.pages > 0 ? 1 : 0, "tick \(tick.index)")
        }
        XCTAssertGreaterThan(link.lastCounters.wakeUps, 0)
        XCTAssertEqual(link.lastCounters.sendFailures, 0)
    }
}

/// Test node after the link: per tick, the pages the encoder produced and the link's wake-up count during the
/// graph's work (`process`) and after it (`tickDidEnd`, registered after the link's, so it runs after it).
final class WakeUpProbe: NodeType, TickObserver {
    static let typeName = "WakeUpProbe"
    static let summary = "test: samples the link's wake-up count"
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(inputs: [InputSpec("pages", .ogg, doc: "encoder pages"), InputSpec("echo", .ogg, doc: "link audio")])
    }
    struct Sample {
        var index: Int64, live: Bool, pages: Int, atProcess: Int, atEnd: Int
    }
    var link: PersonaPlexLink?
    private let pages: PacketInput
    private(set) var ticks: [Sample] = []

    init(_ setup: NodeSetup) throws {
        pages = setup.packetInput("pages")
        setup.observeTickEnd(self)
    }

    func process(_ tick: Tick) throws {
        guard let link else { return }
        var count = 0
        pages.forEach { _ in count += 1 }
        ticks.append(
            Sample(index: tick.index, live: link.isLive, pages: count, atProcess: link.counters.wakeUps, atEnd: 0))
    }

    func tickDidEnd(_ tick: Tick) {
        guard let link, !ticks.isEmpty, ticks[ticks.count - 1].index == tick.index else { return }
        ticks[ticks.count - 1].atEnd = link.counters.wakeUps
    }
}
