import Foundation
import Nodes
import RouterCore
import XCTest

/// PersonaPlexLink against the independent model-free peer (sphn 0.1.12 reader/writer, the server's I/O behaviour),
/// on loopback, in real time.
final class PersonaPlexLinkTests: BridgeTestCase {
    /// 60 s of continuous real-time audio: the peer's sphn reader decodes every byte without a single error, nothing
    /// was sent before the handshake, the echo correlates with the input, and text pieces arrive as sentences.
    func testSixtySecondsOfEchoWithoutReaderErrors() throws {
        let peer = try SphnPeer(["--text-every", "5"])
        let input = "\(dir!)/speech.wav"
        try writeSpeechLikeWAV(input, seconds: 5)
        let s = try session(bridgeYAML(url: peer.url, input: input, loop: true))
        let outcome = run(s, seconds: 60)
        XCTAssertEqual(outcome, .stopped)
        let link = try XCTUnwrap(s.graph.node(named: "ai") as? PersonaPlexLink)
        let stats = try XCTUnwrap(peer.waitForStats(1).first)
        XCTAssertEqual(stat(stats, "reader_errors"), 0, "the sphn reader rejected our stream: \(stats)")
        XCTAssertEqual(stat(stats, "early_messages"), 0, "we sent before the handshake: \(stats)")
        XCTAssertEqual(stat(stats, "live"), 1)
        // 60 s minus connection set-up: the reader must have decoded nearly every 80 ms frame we sent.
        XCTAssertGreaterThan(stat(stats, "frames_decoded"), 650, "\(stats)")
        XCTAssertEqual(s.metrics.first { $0.nodeName == "ai" }?.drops, 0)
        XCTAssertGreaterThan(link.uplinkLatency.count, 2500)

        let (sent, _) = try readMono(input)
        let (echo, rate) = try readMono("\(dir!)/ai-out.wav")
        XCTAssertEqual(rate, 24_000)
        // Compare the echo's first 20 s with the looped input at 24 kHz, allowing up to 1.5 s of round-trip delay.
        let reference = stride(from: 0, to: sent.count, by: 2).map { sent[$0] }
        let looped = Array((reference + reference + reference + reference).prefix(20 * 24_000))
        let envelopeA = envelope(looped), envelopeB = envelope(Array(echo.prefix(22 * 24_000)))
        let env = bestCorrelation(envelopeA, envelopeB, maxLag: 150)
        XCTAssertGreaterThan(env.value, 0.9, "echo envelope correlation \(env)")
        let captions = try String(contentsOfFile: "\(dir!)/ai-captions.txt", encoding: .utf8)
        XCTAssertTrue(captions.contains("Hello world."), captions)
        print("echo envelope correlation \(env.value) at \(env.lag * 10) ms; " + MetricsReport.renderLatencies(s.graph))
    }

    /// RMS over 10 ms windows (240 samples at 24 kHz).
    func envelope(_ x: [Float]) -> [Float] {
        stride(from: 0, to: x.count - 240, by: 240).map { i in
            var acc: Float = 0
            for j in i..<(i + 240) { acc += x[j] * x[j] }
            return (acc / 240).squareRoot()
        }
    }

    /// A second link started while the first holds the server's lock reports "waiting", then goes live when the
    /// first session ends.
    func testSecondLinkWaitsForTheLockThenGoesLive() throws {
        let peer = try SphnPeer()
        let input = "\(dir!)/speech.wav"
        try writeSpeechLikeWAV(input, seconds: 3)
        let logs = LineCollector()
        RouterLog.shared.setSink { logs.append(Data(($0 + "\n").utf8)) }
        defer { RouterLog.shared.setSink { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        let first = try session(bridgeYAML(name: "first", url: peer.url, input: input, tail: "0s"))
        let second = try session(bridgeYAML(name: "second", url: peer.url, input: input, loop: true))
        let done = expectation(description: "both ended")
        done.expectedFulfillmentCount = 2
        Thread { _ = first.run(realtime: true, maxTicks: 500); done.fulfill() }.start()
        Thread.sleep(forTimeInterval: 0.5)
        Thread { _ = second.run(realtime: true, maxTicks: 400); done.fulfill() }.start()
        wait(for: [done], timeout: 30)
        let lines = logs.all
        let waiting = lines.firstIndex { $0.contains("second: link waiting for the server to be free") }
        let firstClosed = lines.firstIndex { $0.hasPrefix("[info] first: link closed") }
        let secondLive = lines.firstIndex { $0.hasPrefix("[info] second: link live") }
        XCTAssertNotNil(waiting, lines.joined(separator: "\n"))
        XCTAssertNotNil(firstClosed, lines.joined(separator: "\n"))
        XCTAssertNotNil(secondLive, lines.joined(separator: "\n"))
        if let w = waiting, let c = firstClosed, let l = secondLive {
            XCTAssertLessThan(w, c)
            XCTAssertLessThan(c, l)
        }
        let stats = peer.waitForStats(2)
        XCTAssertEqual(stats.count, 2)
        XCTAssertEqual(stats.map { stat($0, "reader_errors") }, [0, 0])
        XCTAssertEqual(stats.map { stat($0, "early_messages") }, [0, 0])
    }

    /// With `reconnect: true`, a dropped session is re-established with backoff, and every new session gets a fresh
    /// Ogg stream (BOS first): the peer's reader, which dies on a stream without headers, decodes each one cleanly.
    func testReconnectsAfterTheServerDropsAndStartsAFreshStreamEachTime() throws {
        let peer = try SphnPeer(["--close-after", "1.5"])
        let input = "\(dir!)/speech.wav"
        try writeSpeechLikeWAV(input, seconds: 3)
        let s = try session(bridgeYAML(url: peer.url, extra: ", reconnect: true, reconnect_delay: 200ms", input: input, loop: true))
        XCTAssertEqual(run(s, seconds: 7), .stopped, "the link should survive drops while reconnecting")
        let stats = peer.waitForStats(2)
        XCTAssertGreaterThanOrEqual(stats.count, 2, "\(stats)")
        for session in stats {
            XCTAssertEqual(stat(session, "reader_errors"), 0, "\(session)")
            XCTAssertEqual(stat(session, "early_messages"), 0, "\(session)")
            XCTAssertGreaterThan(stat(session, "frames_decoded"), 5, "\(session)")
        }
    }
}
