import Foundation
import Nodes
import PersonaPlex
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
        // Every byte written after the handshake reached the peer's reader, and it decoded every 80 ms frame of it:
        // the link's pages are OpusHead, OpusTags, then one 20 ms packet each.
        let counters = link.lastCounters
        XCTAssertEqual(stat(stats, "bytes_received"), counters.bytesSent, "bytes written vs bytes the peer read")
        XCTAssertEqual(stat(stats, "messages_received"), counters.audioSent)
        let expectedFrames = (counters.audioSent - 2) * 480 / 1920
        XCTAssertLessThanOrEqual(
            abs(stat(stats, "frames_decoded") - expectedFrames), 2,
            "\(counters.audioSent) pages sent, expected ~\(expectedFrames) frames: \(stats)")
        XCTAssertGreaterThan(counters.audioSent, 2900, "60 s of 20 ms pages minus set-up")
        XCTAssertEqual(counters.sendFailures + counters.sendsDroppedBacklog + counters.audioDropped, 0)
        XCTAssertEqual(s.metrics.first { $0.nodeName == "ai" }?.drops, 0)
        XCTAssertEqual(link.uplinkLatency.count, counters.audioSent)
        let decode = try XCTUnwrap(s.graph.node(named: "decode") as? Decode)
        XCTAssertGreaterThan(decode.pageToFirstFrame.count, 700, "every echoed page measured socket -> first PCM frame")

        let (sent, _) = try readMono(input)
        let (echo, rate) = try readMono("\(dir!)/ai-out.wav")
        XCTAssertEqual(rate, 24_000)
        // Compare the echo's first 20 s with the looped input at 24 kHz, allowing up to 1.5 s of round-trip delay.
        let reference = stride(from: 0, to: sent.count, by: 2).map { sent[$0] }
        let looped = Array((reference + reference + reference + reference).prefix(20 * 24_000))
        let envelopeA = envelope(looped), envelopeB = envelope(Array(echo.prefix(22 * 24_000)))
        let env = bestCorrelation(envelopeA, envelopeB, maxLag: 150)
        let uplink = link.uplinkLatency, downlink = decode.pageToFirstFrameInTick
        print(
            String(
                format: "latency uplink (PCM into encoder -> socket) p50 %.3f ms p99 %.3f ms; "
                    + "downlink (socket -> first PCM frame, incl. prebuffer) p50 %.3f ms p99 %.3f ms; "
                    + "downlink beyond alignment+prebuffer p50 %.3f ms p99 %.3f ms",
                Double(uplink.percentile(0.5)) / 1e6, Double(uplink.percentile(0.99)) / 1e6,
                Double(decode.pageToFirstFrame.percentile(0.5)) / 1e6,
                Double(decode.pageToFirstFrame.percentile(0.99)) / 1e6,
                Double(downlink.percentile(0.5)) / 1e6, Double(downlink.percentile(0.99)) / 1e6))
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

    /// With `reconnect: true`, a dropped session is re-established with backoff, and every new session gets a fresh
    /// Ogg stream (BOS first): the peer's reader, which dies on a stream without headers, decodes each one cleanly.
    func testReconnectsAfterTheServerDropsAndStartsAFreshStreamEachTime() throws {
        let peer = try SphnPeer(["--close-after", "1.5"])
        let input = "\(dir!)/speech.wav"
        try writeSpeechLikeWAV(input, seconds: 3)
        let s = try session(
            bridgeYAML(url: peer.url, extra: ", reconnect: true, reconnect_delay: 200ms", input: input, loop: true))
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
