import Foundation

@testable import DiscordVoice

/// Paths and helpers shared by the voice tests.
enum VoiceTestSupport {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var python: String { packageRoot.appendingPathComponent(".venv/bin/python").path }

    static func bytes(hex: String) -> [UInt8] {
        let chars = Array(hex.utf8)
        return stride(from: 0, to: chars.count - 1, by: 2).map {
            UInt8(String(decoding: chars[$0...$0 + 1], as: UTF8.self), radix: 16) ?? 0
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static let key: [UInt8] = (0..<32).map { UInt8($0 &* 7 &+ 3) }

    /// Opens `packet` with `opener` and returns the payload, or the kind when it is not audio.
    static func open(_ opener: VoicePacketOpener, _ packet: [UInt8], known: Set<UInt32> = [0x1234])
        -> (VoicePacketKind, [UInt8])
    {
        packet.withUnsafeBytes { raw in
            let kind = opener.open(raw, isKnown: { known.contains($0) })
            return (kind, kind == .audio ? Array(opener.payload) : [])
        }
    }
}
