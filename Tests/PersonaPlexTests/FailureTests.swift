import Foundation
import PersonaPlex
import XCTest

/// Every way a session can fail, each with its specific error, and none of them hanging.
final class FailureTests: XCTestCase {
    func testConnectionRefusedNamesHostAndPort() async throws {
        let port = try unusedPort()
        let recorder = StateRecorder()
        let client = PersonaPlexClient(configuration: peerConfiguration(port: port), onStateChange: recorder.callback)
        do {
            try await withTimeout(10, "refused connect") { try await client.connect() }
            XCTFail("connected to a closed port")
        } catch let error as PersonaPlexError {
            XCTAssertEqual(error, .connectionRefused(host: "127.0.0.1", port: port))
            XCTAssertEqual("\(error)", "connection refused at 127.0.0.1:\(port) — is PersonaPlex running?")
        }
        XCTAssertEqual(
            recorder.states.current, [.connecting, .failed(.connectionRefused(host: "127.0.0.1", port: port))])
        let final = await client.waitUntilEnded()
        XCTAssertTrue(final.isFinal)
    }

    func testPromptAndVoiceAreCheckedBeforeConnecting() async throws {
        // A closed port: had the client connected, the error would be "connection refused".
        let port = try unusedPort()
        let empty = PersonaPlexClient(configuration: peerConfiguration(port: port, prompt: "  \n"))
        await assertConnectFails(empty, with: .emptyTextPrompt)
        XCTAssertEqual(empty.state, .failed(.emptyTextPrompt))

        let unknown = PersonaPlexClient(configuration: peerConfiguration(port: port, voice: "NATF7"))
        await assertConnectFails(
            unknown, with: .unknownVoice("NATF7", suggestions: ["NATF0.pt", "NATF1.pt", "NATF2.pt"]))

        let long = PersonaPlexClient(
            configuration: peerConfiguration(port: port, prompt: String(repeating: "x", count: 1200)))
        await assertConnectFails(long, with: .textPromptTooLong(length: 1200, limit: 1000))
    }

    func testServerRejectingTheVoiceIsReportedAsWarmUpClose() async throws {
        // The client knows NATM1 but this server has only NATF0: it upgrades, then closes without a word.
        let peer = try PeerProcess(["--voices", "NATF0.pt"])
        defer { peer.stop() }
        let client = PersonaPlexClient(configuration: peerConfiguration(port: peer.port, voice: "NATM1"))
        await assertConnectFails(client, with: .closedDuringWarmUp(closeCode: nil))
        let stats = try await peer.waitForSessionStats(count: 1)[0]
        XCTAssertTrue((stats["end"] as? String ?? "").hasPrefix("FileNotFoundError"))
    }

    func testNonWebSocketAnswerIsAnUpgradeRejection() async throws {
        let peer = try PeerProcess()
        defer { peer.stop() }
        var configuration = peerConfiguration(port: peer.port)
        configuration.endpoint.path = "/api/nothing-here"
        let client = PersonaPlexClient(configuration: configuration)
        do {
            try await withTimeout(10, "connect") { try await client.connect() }
            XCTFail("upgraded on a path without a WebSocket")
        } catch let error as PersonaPlexError {
            guard case .upgradeRejected(status: 404, reason: _) = error else { return XCTFail("got \(error)") }
        }
    }

    func testServerClosingALiveSessionIsReported() async throws {
        let peer = try PeerProcess(["--prompt-steps", "2", "--close-after", "0.5"])
        defer { peer.stop() }
        let client = PersonaPlexClient(configuration: peerConfiguration(port: peer.port))
        try await withTimeout(10, "connect") { try await client.connect() }
        let final = try await withTimeout(5, "server close") { await client.waitUntilEnded() }
        XCTAssertEqual(final, .failed(.serverClosedSession(closeCode: 1000)))
        XCTAssertEqual(client.send(audio: [0x4F]), .notLive)
        XCTAssertTrue("\(final)".contains("server closed the session"))
    }

    func testSilentServerIsDetectedWhileAudioGoesOut() async throws {
        let peer = try PeerProcess(["--prompt-steps", "2", "--mute-after", "0.2"])
        defer { peer.stop() }
        let pages = try Fixtures.tonePages()
        var configuration = peerConfiguration(port: peer.port)
        configuration.silenceTimeout = 0.6
        let client = PersonaPlexClient(configuration: configuration)
        try await withTimeout(10, "connect") { try await client.connect() }
        for page in pages where !client.state.isFinal {
            _ = client.send(audio: page)
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTAssertEqual(client.state, .failed(.serverSilent(seconds: 0.6)))
        XCTAssertGreaterThan(client.counters.audioReceived, 0, "the header pages came before the peer went quiet")
    }

    func testCorruptOggPageKillsTheServerReaderAndEndsTheSession() async throws {
        let peer = try PeerProcess(["--prompt-steps", "2"])
        defer { peer.stop() }
        let pages = try Fixtures.tonePages()
        let client = PersonaPlexClient(configuration: peerConfiguration(port: peer.port))
        try await withTimeout(10, "connect") { try await client.connect() }
        var corrupt = pages[2]
        corrupt[22] ^= 0xFF  // CRC field
        for page in [pages[0], pages[1], corrupt] { XCTAssertEqual(client.send(audio: page), .queued) }
        let final = try await withTimeout(5, "server close") { await client.waitUntilEnded() }
        XCTAssertEqual(final, .failed(.serverClosedSession(closeCode: 1000)))
        let stats = try await peer.waitForSessionStats(count: 1)[0]
        XCTAssertEqual(statInt(stats, "reader_errors"), 1)
        XCTAssertEqual(statInt(stats, "early_messages"), 0)
    }

    func testHandshakeTimeout() async throws {
        let peer = try PeerProcess(["--prompt-steps", "2000"])
        defer { peer.stop() }
        var configuration = peerConfiguration(port: peer.port)
        configuration.handshakeTimeout = 1
        let client = PersonaPlexClient(configuration: configuration)
        let started = Date()
        await assertConnectFails(client, with: .handshakeTimeout(seconds: 1))
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertTrue("\(PersonaPlexError.handshakeTimeout(seconds: 1))".contains("within 1 s"))
        // The client left: the peer's prompt phase notices and ends the session.
        let stats = try await peer.waitForSessionStats(count: 1, timeout: 5)[0]
        XCTAssertEqual(stats["end"] as? String, "client left during prompt phase")
    }

    func testCloseWhileWaitingReleasesTheSocket() async throws {
        let peer = try PeerProcess(["--prompt-steps", "2000"])
        defer { peer.stop() }
        let recorder = StateRecorder()
        let client = PersonaPlexClient(
            configuration: peerConfiguration(port: peer.port), onStateChange: recorder.callback)
        let connecting = Task { try await client.connect() }
        try await waitUntil("waiting state", timeout: 3) {
            recorder.contains(.waitingForServer(.serverBusyOrWarmingUp))
        }
        try await withTimeout(3, "close") { await client.close() }
        XCTAssertEqual(client.state, .closed)
        do {
            try await withTimeout(3, "connect result") { try await connecting.value }
            XCTFail("connect succeeded after close")
        } catch {
            XCTAssertEqual(error as? PersonaPlexError, .cancelled)
        }
        let stats = try await peer.waitForSessionStats(count: 1, timeout: 5)[0]
        XCTAssertEqual(stats["end"] as? String, "client left during prompt phase")
    }

    /// The backoff in virtual time: the waits are recorded by the injected `sleep` instead of slept (real refused
    /// connections, no real delay), so the exact exponential schedule is checked.
    func testConnectWithRetryBacksOffThenGivesUp() async throws {
        let port = try unusedPort()
        let retries = Locked<[Int]>([])
        let waits = Locked<[UInt64]>([])
        let policy = ReconnectPolicy(maxAttempts: 3, initialDelay: 30, multiplier: 2, maxDelay: 120, jitter: 0)
        do {
            _ = try await withTimeout(10, "retries") {
                try await PersonaPlexClient.connectWithRetry(
                    configuration: peerConfiguration(port: port), policy: policy,
                    onRetry: { attempt, _, _ in retries.withLock { $0.append(attempt) } },
                    sleep: { nanoseconds in waits.withLock { $0.append(nanoseconds) } })
            }
            XCTFail("connected to a closed port")
        } catch {
            XCTAssertEqual(error as? PersonaPlexError, .connectionRefused(host: "127.0.0.1", port: port))
        }
        XCTAssertEqual(retries.current, [1, 2])
        XCTAssertEqual(waits.current, [30_000_000_000, 60_000_000_000], "30 s, then doubled; none after the last")

        // Configuration errors are never retried.
        do {
            _ = try await PersonaPlexClient.connectWithRetry(
                configuration: peerConfiguration(port: port, prompt: ""), policy: policy,
                onRetry: { attempt, _, _ in retries.withLock { $0.append(attempt) } },
                sleep: { nanoseconds in waits.withLock { $0.append(nanoseconds) } })
            XCTFail("connected with an empty prompt")
        } catch {
            XCTAssertEqual(error as? PersonaPlexError, .emptyTextPrompt)
        }
        XCTAssertEqual(retries.current, [1, 2])
        XCTAssertEqual(waits.current.count, 2)
    }

    func testSecondConnectOnTheSameClientIsRefused() async throws {
        let client = PersonaPlexClient(configuration: peerConfiguration(port: try unusedPort()))
        _ = try? await client.connect()
        await assertConnectFails(client, with: .alreadyStarted)
    }

    private func assertConnectFails(
        _ client: PersonaPlexClient, with expected: PersonaPlexError,
        file: StaticString = #filePath, line: UInt = #line
    ) async {
        do {
            try await withTimeout(10, "connect") { try await client.connect() }
            XCTFail("connect succeeded; expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error as? PersonaPlexError, expected, "\(error)", file: file, line: line)
        }
    }
}
