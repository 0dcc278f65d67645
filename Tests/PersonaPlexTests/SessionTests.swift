import Foundation
import PersonaPlex
import Realtime
import XCTest

/// Live sessions against the model-free peer: the 0x00 gate, real-time audio both ways, the server lock.
final class SessionTests: XCTestCase {
    func testLiveSessionEchoesAudioAndTextAndNothingIsSentBeforeHandshake() async throws {
        let peer = try PeerProcess(["--prompt-steps", "30", "--text-every", "4", "--text-pieces", " Hello| world."])
        defer { peer.stop() }
        let pages = try Fixtures.tonePages()
        XCTAssertGreaterThan(pages.count, 140)
        let client = PersonaPlexClient(configuration: peerConfiguration(port: peer.port))
        let beforeConnect = SystemClock.now()

        // Try to send while connecting: every attempt must be refused until 0x00 arrived.
        let connecting = Task { try await client.connect() }
        var earlyResults: [PersonaPlexSendResult] = []
        while client.state != .live, !client.state.isFinal, earlyResults.count < 2000 {
            earlyResults.append(client.send(audio: pages[0]))
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        try await withTimeout(10, "connect") { try await connecting.value }
        XCTAssertEqual(client.state, .live)
        XCTAssertGreaterThan(earlyResults.count, 10, "the peer's 30 prompt steps take at least 300 ms")
        XCTAssertTrue(earlyResults.allSatisfy { $0 == .notLive })
        XCTAssertEqual(client.counters.sendsWhileNotLive, earlyResults.count)

        // Real time: headers at once, then one 20 ms page per tick; drain the inbox every tick like the graph.
        var received: [PersonaPlexMessage] = []
        var batch: [PersonaPlexMessage] = []
        let start = SystemClock.now()
        for (index, page) in pages.enumerated() {
            XCTAssertEqual(client.send(audio: page), .queued)
            client.drainReceived(into: &batch)
            received.append(contentsOf: batch)
            let due = start + UInt64(max(0, index - 1)) * 20_000_000
            let now = SystemClock.now()
            if due > now { try await Task.sleep(nanoseconds: due - now) }
        }
        try await waitUntil("the echo of the last frames", timeout: 3) {
            client.drainReceived(into: &batch)
            received.append(contentsOf: batch)
            return received.filter { $0.kind == .audio }.count >= 2 + 35
        }
        await client.close()
        XCTAssertEqual(client.state, .closed)

        let audio = received.filter { $0.kind == .audio }
        XCTAssertTrue(audio[0].payload.starts(with: Array("OggS".utf8)))
        XCTAssertTrue(audio[0].payload[28...].starts(with: Array("OpusHead".utf8)))
        XCTAssertTrue(audio[1].payload[28...].starts(with: Array("OpusTags".utf8)))
        let texts = received.compactMap(\.text)
        XCTAssertGreaterThanOrEqual(texts.count, 8)
        XCTAssertEqual(Array(texts.prefix(2)), [" Hello", " world."])
        XCTAssertTrue(received.allSatisfy { $0.receivedAtNanos > beforeConnect })

        let counters = client.counters
        XCTAssertEqual(counters.audioSent, pages.count)
        XCTAssertEqual(counters.bytesSent, pages.reduce(0) { $0 + $1.count })
        XCTAssertEqual(counters.audioDropped + counters.textDropped + counters.sendFailures, 0)

        var timings: [PersonaPlexSendTiming] = []
        client.drainSendTimings(into: &timings)
        XCTAssertEqual(timings.count, pages.count)
        XCTAssertTrue(timings.allSatisfy { $0.writtenAtNanos >= $0.requestedAtNanos })
        let p99 = try XCTUnwrap(PersonaPlexLatency.percentile(timings.map(\.queueDelayNanos), 0.99))
        XCTAssertLessThan(p99, 250_000_000, "loopback writes should not queue for 250 ms, even on a loaded machine")

        let stats = try await peer.waitForSessionStats(count: 1)[0]
        XCTAssertEqual(statInt(stats, "early_messages"), 0)
        XCTAssertEqual(statInt(stats, "reader_errors"), 0)
        XCTAssertEqual(statInt(stats, "bytes_received"), counters.bytesSent)
        XCTAssertGreaterThanOrEqual(statInt(stats, "frames_decoded"), 37, "3 s of 24 kHz audio is 37.5 frames")
        XCTAssertEqual(stats["end"] as? String, "client closed")
    }

    func testSecondClientWaitsForTheLockThenGoesLiveWhenTheFirstCloses() async throws {
        let peer = try PeerProcess(["--prompt-steps", "5"])
        defer { peer.stop() }
        let first = PersonaPlexClient(configuration: peerConfiguration(port: peer.port))
        try await withTimeout(10, "first connect") { try await first.connect() }

        let recorder = StateRecorder()
        let second = PersonaPlexClient(
            configuration: peerConfiguration(port: peer.port),
            onStateChange: recorder.callback)
        let secondConnect = Task { try await second.connect() }
        try await waitUntil("the second client to report waiting", timeout: 3) {
            recorder.contains(.waitingForServer(.heldByThisProcess))
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        XCTAssertNotEqual(second.state, .live, "the server lock is held by the first session")
        XCTAssertEqual(second.send(audio: [1, 2, 3]), .notLive)

        await first.close()
        XCTAssertEqual(first.state, .closed)
        try await withTimeout(5, "second connect") { try await secondConnect.value }
        XCTAssertEqual(second.state, .live)
        // Queued behind a known holder first, warming up once it ended, then live.
        XCTAssertEqual(recorder.states.current, [.connecting, .waitingForServer(.heldByThisProcess), .upgraded, .live])
        await second.close()

        let stats = try await peer.waitForSessionStats(count: 2)
        XCTAssertEqual(stats.map { statInt($0, "early_messages") }, [0, 0])
        XCTAssertEqual(stats.map { $0["live"] as? Bool }, [true, true])
    }

    func testSlowWarmUpIsReportedAsWaitingThenGoesLive() async throws {
        let peer = try PeerProcess(["--prompt-steps", "10", "--step-delay", "0.1"])
        defer { peer.stop() }
        let recorder = StateRecorder()
        let client = PersonaPlexClient(
            configuration: peerConfiguration(port: peer.port),
            onStateChange: recorder.callback)
        try await withTimeout(10, "connect") { try await client.connect() }
        XCTAssertEqual(
            recorder.states.current,
            [.connecting, .upgraded, .waitingForServer(.serverBusyOrWarmingUp), .live])
        await client.close()
    }
}
