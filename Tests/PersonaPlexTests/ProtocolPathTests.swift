import Foundation
import PersonaPlex
import XCTest

/// Protocol paths the stock PersonaPlex server does not take but other Moshi servers and wrong clients do.
final class ProtocolPathTests: XCTestCase {
    /// A handshake with 8 extra zero bytes (the Rust moshi backend) and the message kinds 0x03...0x06 are accepted:
    /// the session goes live, the kinds are counted and ignored, and the audio still flows without reader errors.
    func testLongHandshakeAndUnknownKindsAreAcceptedAndCounted() async throws {
        let peer = try PeerProcess(["--prompt-steps", "2", "--handshake-extra-bytes", "8", "--send-unknown-kinds"])
        defer { peer.stop() }
        let pages = try Fixtures.tonePages()
        let client = PersonaPlexClient(configuration: peerConfiguration(port: peer.port))
        try await withTimeout(10, "connect") { try await client.connect() }
        for page in pages.prefix(40) {
            XCTAssertEqual(client.send(audio: page), .queued)
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        var received: [PersonaPlexMessage] = []
        try await waitUntil("echo pages", timeout: 5) {
            var batch: [PersonaPlexMessage] = []
            client.drainReceived(into: &batch)
            received += batch
            return received.filter { $0.kind == .audio }.count >= 4
        }
        await client.close()
        XCTAssertEqual(client.state, .closed)
        let counters = client.counters
        XCTAssertEqual(counters.longHandshakes, 1)
        XCTAssertEqual(counters.ignoredMessages, 4, "kinds 0x03, 0x04, 0x05, 0x06")
        XCTAssertEqual(counters.repeatedHandshakes, 0)
        let stats = try await peer.waitForSessionStats(count: 1)[0]
        XCTAssertEqual(statInt(stats, "reader_errors"), 0)
        XCTAssertEqual(statInt(stats, "bytes_received"), counters.bytesSent)
    }

    /// The peer's early-message check has teeth: a client that sends its Ogg stream before `0x00` (as Kyutai's
    /// clients do) is recorded, and — as on the real server — the swallowed BOS page kills the session's Ogg reader
    /// right after the handshake.
    func testAudioBeforeTheHandshakeIsRecordedAndKillsTheSessionAfterIt() async throws {
        let peer = try PeerProcess(["--prompt-steps", "20"])
        defer { peer.stop() }
        let ogg = FileManager.default.temporaryDirectory.appendingPathComponent("early-\(UUID()).opus")
        defer { try? FileManager.default.removeItem(at: ogg) }
        try Data(try Fixtures.tonePages().joined()).write(to: ogg)
        let script = Repository.root.appendingPathComponent("Tests/peers/early_client.py").path
        let output = try runTool(
            Repository.python.path,
            [script, "ws://127.0.0.1:\(peer.port)/api/chat?text_prompt=hi&voice_prompt=NATF0.pt", ogg.path])
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        XCTAssertEqual(statInt(result, "early_pages"), 3)
        XCTAssertNotNil(result["handshake_after"] as? Double, "\(result)")
        let closedAfter = try XCTUnwrap(
            result["closed_after_handshake"] as? Double, "the server kept the session: \(result)")
        XCTAssertLessThan(closedAfter, 1.0, "the session should die right after 0x00")
        let stats = try await peer.waitForSessionStats(count: 1)[0]
        XCTAssertGreaterThanOrEqual(statInt(stats, "early_messages"), 1)
        XCTAssertEqual(statInt(stats, "reader_errors"), 1)
        XCTAssertTrue((stats["end"] as? String ?? "").hasPrefix("reader died"), "\(stats)")
    }

    /// `wss://` to a server that fell back to plain ws (PersonaPlex does when it cannot set up TLS): the error
    /// suggests ws://, not a CA file.
    func testSecureURLToAPlainServerSuggestsWS() async throws {
        let peer = try PeerProcess()
        defer { peer.stop() }
        let client = PersonaPlexClient(configuration: peerConfiguration(port: peer.port, secure: true))
        do {
            try await withTimeout(10, "connect") { try await client.connect() }
            XCTFail("a TLS handshake with a plain-text server succeeded")
        } catch let error as PersonaPlexError {
            guard case .tlsFailure(_, plaintextReply: true) = error else { return XCTFail("got \(error)") }
            XCTAssertTrue("\(error)".contains("use a ws:// URL"), "\(error)")
            XCTAssertFalse("\(error)".contains("ca_file"), "\(error)")
        }
    }

    func testErrorWordingNamesWhatWasCheckedAndWhichOptionToChange() throws {
        XCTAssertThrowsError(try PersonaPlexVoices.validated("NATX0")) { error in
            XCTAssertTrue("\(error)".contains("not among the 18 stock voices"), "\(error)")
            XCTAssertTrue("\(error)".contains("voice_dir"), "\(error)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pplx-voices-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        XCTAssertThrowsError(try PersonaPlexVoices.validated("NATF0", voiceDirectory: directory.path)) { error in
            XCTAssertTrue("\(error)".contains("not among the files in voice_dir \(directory.path)"), "\(error)")
        }
        XCTAssertTrue("\(PersonaPlexError.handshakeTimeout(seconds: 60))".contains("raise handshake_timeout"))
    }

    func testRequestPathIsPercentEncoded() throws {
        XCTAssertEqual(
            PersonaPlexChatQuery.requestTarget(path: "/api/café chat", textPrompt: "a b", voicePrompt: "NATF0.pt"),
            "/api/caf%C3%A9%20chat?text_prompt=a%20b&voice_prompt=NATF0.pt")
        XCTAssertEqual(
            PersonaPlexChatQuery.percentEncodePath("/already%20encoded/x?y#z"), "/already%20encoded/x%3Fy%23z")
        let endpoint = try PersonaPlexEndpoint(url: "ws://h:1/api/caf%C3%A9")
        XCTAssertEqual(endpoint.path, "/api/caf%C3%A9")
        XCTAssertEqual(
            PersonaPlexChatQuery.requestTarget(path: endpoint.path, textPrompt: "x", voicePrompt: "v.pt"),
            "/api/caf%C3%A9?text_prompt=x&voice_prompt=v.pt")
    }
}
