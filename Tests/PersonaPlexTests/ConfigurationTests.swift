import Foundation
import PersonaPlex
import XCTest

/// Checks that run before any network activity: URL, query, prompt, voice, policy, percentiles.
final class ConfigurationTests: XCTestCase {
    func testEndpointParsingDefaultsPortAndPath() throws {
        let plain = try PersonaPlexEndpoint(url: "ws://gpu-box")
        XCTAssertEqual(plain, PersonaPlexEndpoint(secure: false, host: "gpu-box", port: 8998, path: "/api/chat"))
        let secure = try PersonaPlexEndpoint(url: "wss://[::1]:9000/api/chat")
        XCTAssertEqual(secure, PersonaPlexEndpoint(secure: true, host: "::1", port: 9000, path: "/api/chat"))
        XCTAssertEqual(secure.authority, "[::1]:9000")
        XCTAssertThrowsError(try PersonaPlexEndpoint(url: "http://host:8998"))
        XCTAssertThrowsError(try PersonaPlexEndpoint(url: "ws://host:8998/api/chat?seed=1"))
    }

    func testQueryIsPercentEncodedAndNeverCarriesSeed() throws {
        var configuration = try PersonaPlexConfiguration(
            url: "ws://localhost:8998", textPrompt: "Tu es Zoë & ami=1? 100%", voicePrompt: "NATM1")
        configuration.voiceDirectory = nil
        let target = try configuration.validatedRequestTarget()
        XCTAssertEqual(
            target,
            "/api/chat?text_prompt=Tu%20es%20Zo%C3%AB%20%26%20ami%3D1%3F%20100%25&voice_prompt=NATM1.pt")
        XCTAssertFalse(target.contains("seed"))
        XCTAssertEqual(PersonaPlexChatQuery.percentEncode("a-b.c_d~e/f+g"), "a-b.c_d~e%2Ff%2Bg")
    }

    func testEmptyOrOverlongPromptIsRefused() throws {
        for prompt in ["", "   ", "\n\t "] {
            XCTAssertThrowsError(try PersonaPlexChatQuery.validatedTextPrompt(prompt)) { error in
                XCTAssertEqual(error as? PersonaPlexError, .emptyTextPrompt)
            }
        }
        let long = String(repeating: "a", count: 1001)
        XCTAssertThrowsError(try PersonaPlexChatQuery.validatedTextPrompt(long)) { error in
            XCTAssertEqual(error as? PersonaPlexError, .textPromptTooLong(length: 1001, limit: 1000))
        }
        XCTAssertNoThrow(try PersonaPlexChatQuery.validatedTextPrompt(String(repeating: "a", count: 1000)))
    }

    func testStockVoicesNormaliseAndSuggest() throws {
        XCTAssertEqual(PersonaPlexVoices.stock.count, 18)
        XCTAssertEqual(try PersonaPlexVoices.validated("NATF0"), "NATF0.pt")
        XCTAssertEqual(try PersonaPlexVoices.validated("VARM4.pt"), "VARM4.pt")
        XCTAssertThrowsError(try PersonaPlexVoices.validated("natf2")) { error in
            guard case let .unknownVoice(name, suggestions, _)? = error as? PersonaPlexError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(name, "natf2")
            XCTAssertEqual(suggestions.first, "NATF2.pt")
            XCTAssertTrue("\(error)".contains("did you mean NATF2.pt"))
        }
        XCTAssertThrowsError(try PersonaPlexVoices.validated("VARF7")) { error in
            guard case let .unknownVoice(_, suggestions, _)? = error as? PersonaPlexError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(suggestions.count, 3)
            XCTAssertTrue(suggestions.allSatisfy { $0.hasPrefix("VAR") })
        }
        XCTAssertThrowsError(try PersonaPlexVoices.validated("../NATF0.pt"))
    }

    func testVoiceDirectoryReplacesTheStockList() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pplx-voices-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["CUSTOM1.pt", "NATF0.pt", "narrator.wav"] {
            try Data().write(to: directory.appendingPathComponent(name))
        }
        XCTAssertEqual(try PersonaPlexVoices.validated("CUSTOM1", voiceDirectory: directory.path), "CUSTOM1.pt")
        XCTAssertEqual(try PersonaPlexVoices.validated("narrator.wav", voiceDirectory: directory.path), "narrator.wav")
        XCTAssertThrowsError(try PersonaPlexVoices.validated("NATM0", voiceDirectory: directory.path)) { error in
            guard case let .unknownVoice(_, suggestions, _)? = error as? PersonaPlexError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(suggestions, ["NATF0.pt"])
        }
        XCTAssertThrowsError(try PersonaPlexVoices.validated("NATF0", voiceDirectory: directory.path + "-missing")) {
            guard case .voiceDirectoryUnreadable? = $0 as? PersonaPlexError else { return XCTFail("got \($0)") }
        }
    }

    func testReconnectPolicyBacksOffExponentiallyAndSkipsConfigurationErrors() {
        let policy = ReconnectPolicy(maxAttempts: 6, initialDelay: 0.5, multiplier: 2, maxDelay: 3, jitter: 0)
        XCTAssertEqual((1...5).map { policy.baseDelay(afterFailedAttempt: $0) }, [0.5, 1, 2, 3, 3])
        var generator = SystemRandomNumberGenerator()
        let jittered = ReconnectPolicy(initialDelay: 1, jitter: 0.2)
        for _ in 0..<50 {
            XCTAssertTrue((0.8...1.2).contains(jittered.delay(afterFailedAttempt: 1, using: &generator)))
        }
        XCTAssertTrue(policy.shouldRetry(.connectionRefused(host: "h", port: 1)))
        XCTAssertTrue(policy.shouldRetry(.handshakeTimeout(seconds: 60)))
        XCTAssertFalse(policy.shouldRetry(.closedDuringWarmUp(closeCode: nil)))
        XCTAssertFalse(policy.shouldRetry(.emptyTextPrompt))
        XCTAssertFalse(policy.shouldRetry(.tlsFailure(reason: "x")))
    }

    func testPercentileUsesNearestRank() {
        let values: [UInt64] = (1...100).map { UInt64($0) }.shuffled()
        XCTAssertEqual(PersonaPlexLatency.percentile(values, 0.5), 50)
        XCTAssertEqual(PersonaPlexLatency.percentile(values, 0.99), 99)
        XCTAssertEqual(PersonaPlexLatency.percentile([7], 0.99), 7)
        XCTAssertNil(PersonaPlexLatency.percentile([], 0.5))
    }

    func testErrorMessagesNameTheRemedy() {
        XCTAssertEqual(
            "\(PersonaPlexError.connectionRefused(host: "10.0.0.2", port: 8998))",
            "connection refused at 10.0.0.2:8998 — is PersonaPlex running?")
        XCTAssertTrue(
            "\(PersonaPlexError.closedDuringWarmUp(closeCode: nil))".hasPrefix(
                "server closed during warm-up: most likely a bad text_prompt or voice_prompt "
                    + "(the server accepts the upgrade then closes with 1006)"))
        let tls = "\(PersonaPlexError.tlsFailure(reason: "certificate verify failed"))"
        XCTAssertTrue(tls.contains("ca_file") && tls.contains("insecure_skip_verify: true"))
    }
}
