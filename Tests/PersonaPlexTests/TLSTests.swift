import Foundation
import PersonaPlex
import XCTest

/// `wss://` against the peer serving a certificate from a throw-away CA.
final class TLSTests: XCTestCase {
    func testVerificationFailsWithoutCAFileAndNamesTheOptions() async throws {
        let tls = try Fixtures.tls()
        let peer = try PeerProcess(["--prompt-steps", "2", "--ssl-cert", tls.certificate, "--ssl-key", tls.key])
        defer { peer.stop() }
        let client = PersonaPlexClient(configuration: peerConfiguration(port: peer.port, secure: true))
        do {
            try await withTimeout(10, "connect") { try await client.connect() }
            XCTFail("an unknown CA was trusted")
        } catch let error as PersonaPlexError {
            guard case .tlsFailure = error else { return XCTFail("expected a TLS failure, got \(error)") }
            XCTAssertTrue("\(error)".contains("ca_file"))
            XCTAssertTrue("\(error)".contains("insecure_skip_verify: true"))
        }
    }

    func testCAFileIsTrustedAndTheSessionGoesLive() async throws {
        let tls = try Fixtures.tls()
        let peer = try PeerProcess(["--prompt-steps", "2", "--ssl-cert", tls.certificate, "--ssl-key", tls.key])
        defer { peer.stop() }
        var configuration = peerConfiguration(port: peer.port, secure: true)
        configuration.tls.caFile = tls.caFile
        let client = PersonaPlexClient(configuration: configuration)
        try await withTimeout(10, "connect") { try await client.connect() }
        XCTAssertEqual(client.state, .live)
        // Audio flows over TLS: the header pages arrive after 0x00.
        var messages: [PersonaPlexMessage] = []
        var batch: [PersonaPlexMessage] = []
        try await waitUntil("the OpusHead page", timeout: 3) {
            client.drainReceived(into: &batch)
            messages += batch
            return messages.count >= 2
        }
        XCTAssertTrue(messages[0].payload.starts(with: Array("OggS".utf8)))
        await client.close()
        XCTAssertEqual(client.state, .closed)
    }

    func testInsecureSkipVerifyConnectsAndWarnsOnce() async throws {
        let tls = try Fixtures.tls()
        let peer = try PeerProcess(["--prompt-steps", "2", "--ssl-cert", tls.certificate, "--ssl-key", tls.key])
        defer { peer.stop() }
        var configuration = peerConfiguration(port: peer.port, secure: true)
        configuration.tls.insecureSkipVerify = true
        XCTAssertNotNil(configuration.tls.insecureWarning)
        let log = LogRecorder()
        for _ in 0..<2 {
            let client = PersonaPlexClient(configuration: configuration, logger: log.logger)
            try await withTimeout(10, "connect") { try await client.connect() }
            XCTAssertEqual(client.state, .live)
            await client.close()
        }
        XCTAssertEqual(log.messages(at: .warning).filter { $0.contains("insecure_skip_verify") }.count, 1)
    }

    func testUnreadableCAFileFailsBeforeConnecting() async throws {
        var configuration = peerConfiguration(port: try unusedPort(), secure: true)
        configuration.tls.caFile = "/nonexistent/ca.pem"
        let client = PersonaPlexClient(configuration: configuration)
        do {
            try await client.connect()
            XCTFail("connected without a CA file")
        } catch let error as PersonaPlexError {
            guard case .caFileUnreadable(path: "/nonexistent/ca.pem", reason: _) = error else {
                return XCTFail("got \(error)")
            }
        }
    }
}
