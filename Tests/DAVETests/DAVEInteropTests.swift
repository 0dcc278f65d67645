import Foundation
import XCTest

/// Runs `dave-interop scenario …`: our DAVE member beside a dave.py (libdave) member and a davey (OpenMLS) member,
/// with the harness playing Discord's voice server. Needs `bash scripts/setup.sh --with-peers` (creates .venv).
final class DAVEInteropTests: XCTestCase {
    /// `swift build --build-tests` builds `dave-interop` beside the test bundle; without it nothing can run.
    private struct HarnessMissing: Error {}

    /// Runs the scenario and returns its transcript (log lines), failing unless it ends with `PASS <scenario>`.
    @discardableResult
    private func run(_ scenario: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let root = TestSupport.packageRoot
        let python = root.appendingPathComponent(".venv/bin/python").path
        let driver = root.appendingPathComponent("Tests/interop/driver.py").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("missing \(python): run `bash scripts/setup.sh --with-peers`", file: file, line: line)
            return ""
        }
        let harness = try Self.harnessURL()
        let process = Process()
        process.executableURL = harness
        process.arguments = ["scenario", scenario, "--python", python, "--driver", driver]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let transcript = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "dave-interop \(scenario):\n\(transcript)", file: file, line: line)
        XCTAssertTrue(transcript.contains("PASS \(scenario)"), transcript, file: file, line: line)
        return transcript
    }

    /// The `dave-interop` executable built next to this test bundle.
    private static func harnessURL() throws -> URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let starts = [testBinary, Bundle(for: DAVEInteropTests.self).bundleURL, Bundle.main.bundleURL]
        for start in starts {
            var directory = start
            for _ in 0..<3 {
                let candidate = directory.appendingPathComponent("dave-interop")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory.deleteLastPathComponent()
            }
        }
        throw HarnessMissing()
    }

    /// Same epoch authenticator, privacy code and verification codes for all three; same epoch for our member and
    /// davey (dave.py 1.1.0 exposes no epoch — its equal authenticator, derived from the epoch secret, stands in).
    func testInteropThreeMembersShareEpochAuthenticatorAndPrivacyCode() throws { try run("three-members") }

    /// Opus frames encrypted by each member are decrypted by the other two, byte-exact: all six ordered pairs.
    func testInteropFramesEncryptedByEachMemberDecryptByteExactAtTheOtherTwo() throws {
        let transcript = try run("frames-each-way")
        let pairs = transcript.split(separator: "\n").filter {
            $0.hasPrefix("frames ") && $0.hasSuffix(": 5 byte-exact")
        }
        XCTAssertEqual(pairs.count, 6, transcript)
        for name in ["swift", "libdave", "davey"] {
            XCTAssertEqual(pairs.filter { $0.hasPrefix("frames \(name)") }.count, 2, "\(name) as sender\n\(transcript)")
            XCTAssertEqual(pairs.filter { $0.contains("→ \(name)") }.count, 2, "\(name) as receiver\n\(transcript)")
        }
    }

    func testInteropOurMemberCommitsJoinLeaveRejoin() throws { try run("swift-commits") }

    func testInteropOurMemberWelcomedJoinLeaveRejoin() throws { try run("swift-welcomed") }

    func testInteropInvalidCommitAnsweredWithOp31AndRecovered() throws { try run("invalid-commit") }

    func testInteropPeersAcceptOurExternalSenderProposals() throws { try run("external-proposals") }
}
