import Foundation
import XCTest

@testable import DiscordVoice

/// Packets we seal open with PyNaCl (XChaCha20-Poly1305) and `cryptography` (AES-256-GCM) in
/// `Tests/interop/voice_transport.py`, and theirs — with CSRCs, extensions and padding — open with ours.
/// Needs `bash scripts/setup.sh --with-peers`.
final class TransportInteropTests: XCTestCase {
    func testXChaChaAgainstPyNaCl() throws { try roundTrip(.xchacha20Poly1305) }

    func testAESGCMAgainstCryptography() throws { try roundTrip(.aes256GCM) }

    private func roundTrip(_ mode: TransportMode) throws {
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        // Our side: libsodium for both modes (AES-GCM on swift-crypto too when AES-NI is absent).
        let cipher = try TransportCipher(mode: mode, key: key)
        let sealer = VoicePacketSealer(cipher: cipher, ssrc: 0x1234)
        var packets: [String] = []
        var payloads: [String] = []
        var buffer = [UInt8](repeating: 0, count: 1500)
        for i in 0..<10 {
            let payload = (0..<(3 + 17 * i)).map { _ in UInt8.random(in: 0...255) }
            let length = try payload.withUnsafeBytes { p in
                try buffer.withUnsafeMutableBytes { try sealer.seal(frame: p, into: $0) }
            }
            packets.append(VoiceTestSupport.hex(Array(buffer[0..<length])))
            payloads.append(VoiceTestSupport.hex(payload))
        }
        let request: [String: Any] = [
            "mode": mode.rawValue, "key": VoiceTestSupport.hex(key),
            "packets": packets, "payloads": payloads,
        ]
        let reply = try runPeer(request)
        XCTAssertEqual(reply["ok"] as? Bool, true, "\(reply)")
        XCTAssertEqual(reply["opened"] as? Int, 10)
        let theirs = try XCTUnwrap(reply["packets"] as? [String])
        let expected = try XCTUnwrap(reply["payloads"] as? [String])
        XCTAssertEqual(theirs.count, 8)
        let opener = VoicePacketOpener(cipher: cipher)
        for (packet, payload) in zip(theirs, expected) {
            let (kind, got) = VoiceTestSupport.open(opener, VoiceTestSupport.bytes(hex: packet))
            XCTAssertEqual(kind, .audio)
            XCTAssertEqual(VoiceTestSupport.hex(got), payload)
        }
    }

    private func runPeer(_ request: [String: Any]) throws -> [String: Any] {
        let python = VoiceTestSupport.python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("missing \(python): run `bash scripts/setup.sh --with-peers`")
            return [:]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        let script = VoiceTestSupport.packageRoot.appendingPathComponent("Tests/interop/voice_transport.py")
        process.arguments = [script.path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: request))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
