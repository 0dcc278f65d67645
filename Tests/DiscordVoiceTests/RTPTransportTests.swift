import CAllocCounter
import XCTest

@testable import DiscordVoice

final class RTPTransportTests: XCTestCase {
    private let opus: [UInt8] = (0..<97).map { UInt8(truncatingIfNeeded: $0 &* 13) }

    func testHeaderRoundTrip() {
        var bytes = [UInt8](repeating: 0, count: 12)
        let header = RTPHeader(sequence: 0xABCD, timestamp: 0x0102_0304, ssrc: 0xDEAD_BEEF)
        bytes.withUnsafeMutableBytes { header.write(to: $0) }
        XCTAssertEqual(bytes, [0x80, 0x78, 0xAB, 0xCD, 1, 2, 3, 4, 0xDE, 0xAD, 0xBE, 0xEF])
        XCTAssertEqual(bytes.withUnsafeBytes { RTPHeader(parsing: $0) }, header)
        XCTAssertNil([UInt8]([0x40] + bytes.dropFirst()).withUnsafeBytes { RTPHeader(parsing: $0) }, "version 1")
        // Three CSRCs and X announced, but the bytes end inside them.
        XCTAssertNil(([0x93] + bytes.dropFirst() + [0, 0, 0, 0]).withUnsafeBytes { RTPHeader(parsing: $0) })
    }

    func testSealOpenBothModes() throws {
        for mode in TransportMode.supported {
            let cipher = try TransportCipher(mode: mode, key: VoiceTestSupport.key)
            let sealer = VoicePacketSealer(cipher: cipher, ssrc: 0x1234, sequence: 0xFFFF, timestamp: 0xFFFF_FF00)
            let opener = VoicePacketOpener(cipher: cipher)
            var packet = [UInt8](repeating: 0, count: 1500)
            for round in 0..<3 {
                let length = try opus.withUnsafeBytes { frame in
                    try packet.withUnsafeMutableBytes { try sealer.seal(frame: frame, into: $0) }
                }
                XCTAssertEqual(length, 12 + opus.count + 20)
                let (kind, payload) = VoiceTestSupport.open(opener, Array(packet[0..<length]))
                XCTAssertEqual(kind, .audio, "\(mode)")
                XCTAssertEqual(payload, opus)
                XCTAssertEqual(opener.header.sequence, 0xFFFF &+ UInt16(round))
                XCTAssertEqual(opener.header.timestamp, 0xFFFF_FF00 &+ 960 * UInt32(round))
                XCTAssertEqual(Array(packet[(length - 4)..<length]), [0, 0, 0, UInt8(round)], "nonce appended BE")
            }
            sealer.skipFrame()
            XCTAssertEqual(sealer.timestamp, 0xFFFF_FF00 &+ 960 * 4)
            XCTAssertEqual(sealer.sequence, 2)
        }
    }

    /// libsodium's AES-GCM and swift-crypto's produce the same packet, and each opens the other's.
    func testAESGCMLibsodiumMatchesSwiftCrypto() throws {
        try XCTSkipUnless(TransportCipher.aesGCMAvailable, "no AES-NI: libsodium AES-GCM unavailable")
        let sodium = try TransportCipher(mode: .aes256GCM, key: VoiceTestSupport.key)
        let swift = try TransportCipher(mode: .aes256GCM, key: VoiceTestSupport.key, forceSwiftCrypto: true)
        let a = try RTPPacketBuilder.packet(
            cipher: sodium, sequence: 1, timestamp: 2, ssrc: 0x1234, payload: opus,
            nonce: 77)
        let b = try RTPPacketBuilder.packet(
            cipher: swift, sequence: 1, timestamp: 2, ssrc: 0x1234, payload: opus,
            nonce: 77)
        XCTAssertEqual(a, b)
        XCTAssertEqual(VoiceTestSupport.open(VoicePacketOpener(cipher: swift), a).1, opus)
    }

    func testExtensionCSRCAndPaddingStripped() throws {
        for mode in TransportMode.supported {
            let cipher = try TransportCipher(mode: mode, key: VoiceTestSupport.key)
            let opener = VoicePacketOpener(cipher: cipher)
            let packet = try RTPPacketBuilder.packet(
                cipher: cipher, sequence: 5, timestamp: 6, ssrc: 0x1234, csrcs: [7, 8],
                extensionBody: [0x10, 0xAA, 0, 0, 0x21, 0xBB, 0xCC, 0], payload: opus, padding: 5, nonce: 9)
            let (kind, payload) = VoiceTestSupport.open(opener, packet)
            XCTAssertEqual(kind, .audio)
            XCTAssertEqual(payload, opus, "\(mode): extension body and padding stripped")
            // DAVE frames end in FA FA: the padding must be gone before DAVE looks at the tail.
            let dave = opus + [0xFA, 0xFA]
            let padded = try RTPPacketBuilder.packet(
                cipher: cipher, sequence: 6, timestamp: 7, ssrc: 0x1234,
                payload: dave, padding: 4, nonce: 10)
            XCTAssertEqual(VoiceTestSupport.open(opener, padded).1.suffix(2), [0xFA, 0xFA])
        }
    }

    func testPaddingOnlyAndBadPaddingDropped() throws {
        let cipher = try TransportCipher(mode: .xchacha20Poly1305, key: VoiceTestSupport.key)
        let opener = VoicePacketOpener(cipher: cipher)
        let paddingOnly = try RTPPacketBuilder.packet(
            cipher: cipher, sequence: 1, timestamp: 1, ssrc: 0x1234,
            payload: [], padding: 8, nonce: 1)
        XCTAssertEqual(VoiceTestSupport.open(opener, paddingOnly).0, .dropped(.badPadding))
        // A count beyond the plaintext: P set on a payload whose last byte is 200.
        let overlong = try RTPPacketBuilder.packet(
            cipher: cipher, sequence: 2, timestamp: 2, ssrc: 0x1234,
            payload: [1, 2, 200], padding: 1, nonce: 2)
        XCTAssertEqual(VoiceTestSupport.open(opener, overlong).1, [1, 2, 200], "count 1 strips only itself")
        var header = RTPHeader(sequence: 3, timestamp: 3, ssrc: 0x1234)
        header.padding = true
        let forged = try sealed(cipher: cipher, header: header, plaintext: [1, 2, 200])
        XCTAssertEqual(VoiceTestSupport.open(opener, forged).0, .dropped(.badPadding))
        let extensionOnly = try RTPPacketBuilder.packet(
            cipher: cipher, sequence: 4, timestamp: 4, ssrc: 0x1234,
            extensionBody: [1, 2, 3, 4], payload: [], nonce: 4)
        XCTAssertEqual(VoiceTestSupport.open(opener, extensionOnly).0, .dropped(.empty))
        XCTAssertEqual(opener.counters.badPadding, 2)
        XCTAssertEqual(opener.counters.empty, 1)
        XCTAssertEqual(opener.counters.audio, 1)
    }

    /// Filtering happens before decryption: with a wrong key, an unknown SSRC still counts as unknown, not as a
    /// decryption failure; RTCP is counted and never decrypted.
    func testFilterAndDemuxBeforeDecrypting() throws {
        let cipher = try TransportCipher(mode: .xchacha20Poly1305, key: VoiceTestSupport.key)
        let wrong = try TransportCipher(mode: .xchacha20Poly1305, key: [UInt8](repeating: 1, count: 32))
        let opener = VoicePacketOpener(cipher: wrong)
        let good = try RTPPacketBuilder.packet(
            cipher: cipher, sequence: 1, timestamp: 1, ssrc: 0x9999, payload: opus,
            nonce: 1)
        XCTAssertEqual(VoiceTestSupport.open(opener, good).0, .dropped(.unknownSSRC))
        XCTAssertEqual(VoiceTestSupport.open(opener, good, known: [0x9999]).0, .dropped(.decryptFailed))
        XCTAssertEqual(VoiceTestSupport.open(opener, RTPPacketBuilder.receiverReport(ssrc: 1)).0, .rtcp)
        var otherPT = good
        otherPT[1] = 0x60
        XCTAssertEqual(VoiceTestSupport.open(opener, otherPT).0, .dropped(.wrongPayloadType))
        var v1 = good
        v1[0] = 0x40
        XCTAssertEqual(VoiceTestSupport.open(opener, v1).0, .dropped(.notRTP))
        XCTAssertEqual(VoiceTestSupport.open(opener, Array(good.prefix(12))).0, .dropped(.tooShort))
        XCTAssertEqual(VoiceTestSupport.open(opener, Array(good.prefix(30))).0, .dropped(.tooShort))
        XCTAssertEqual(VoiceTestSupport.open(opener, [0x80, 0x78, 1]).0, .dropped(.tooShort))
        XCTAssertEqual(VoiceTestSupport.open(opener, []).0, .dropped(.notRTP))
        XCTAssertEqual(VoiceTestSupport.open(opener, IPDiscovery.request(ssrc: 1)).0, .dropped(.notRTP))
        let c = opener.counters
        XCTAssertEqual(
            [c.unknownSSRC, c.decryptFailed, c.rtcp, c.wrongPayloadType, c.notRTP, c.tooShort],
            [1, 1, 1, 1, 3, 3])
        // Random garbage never crashes.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let junk = (0..<Int.random(in: 0..<80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = VoiceTestSupport.open(opener, junk, known: [])
            var rtpish = junk
            if rtpish.count > 1 {
                rtpish[0] = 0x80 | (rtpish[0] & 0x3F)
                rtpish[1] = 0x78
            }
            _ = VoiceTestSupport.open(opener, rtpish, known: Set(0...UInt32(0)).union([UInt32.max]))
        }
    }

    func testTamperedPacketFails() throws {
        let cipher = try TransportCipher(mode: .xchacha20Poly1305, key: VoiceTestSupport.key)
        let opener = VoicePacketOpener(cipher: cipher)
        let packet = try RTPPacketBuilder.packet(
            cipher: cipher, sequence: 1, timestamp: 1, ssrc: 0x1234,
            payload: opus, nonce: 1)
        for index in [3, 20, packet.count - 10, packet.count - 1] {
            var bad = packet
            bad[index] ^= 0x01
            XCTAssertEqual(VoiceTestSupport.open(opener, bad).0, .dropped(.decryptFailed), "byte \(index)")
        }
        XCTAssertThrowsError(try TransportCipher(mode: .aes256GCM, key: [1, 2, 3]))
    }

    private func sealed(cipher: TransportCipher, header: RTPHeader, plaintext: [UInt8]) throws -> [UInt8] {
        var aad = [UInt8](repeating: 0, count: 12)
        aad.withUnsafeMutableBytes { header.write(to: $0) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: 16)
        try plaintext.withUnsafeBytes { p in
            try aad.withUnsafeBytes { a in
                try ciphertext.withUnsafeMutableBytes { c in
                    try tag.withUnsafeMutableBytes { t in
                        try cipher.seal(plaintext: p, aad: a, nonce: 3, ciphertext: c, tag: t)
                    }
                }
            }
        }
        return aad + ciphertext + tag + [0, 0, 0, 3]
    }
}

/// Sealing and opening in steady state allocate nothing (preallocated buffers, libsodium in place).
final class TransportAllocationTests: XCTestCase {
    func testSealAndOpenAllocateNothingPerPacket() throws {
        try XCTSkipUnless(alloc_counter_active() == 1, "allocation counter not linked")
        for mode in TransportMode.supported {
            let cipher = try TransportCipher(mode: mode, key: VoiceTestSupport.key)
            let sealer = VoicePacketSealer(cipher: cipher, ssrc: 0x1234)
            let opener = VoicePacketOpener(cipher: cipher)
            var packet = [UInt8](repeating: 0, count: 1500)
            let frame = [UInt8](repeating: 0x55, count: 120)
            func once() throws {
                let length = try frame.withUnsafeBytes { f in
                    try packet.withUnsafeMutableBytes { try sealer.seal(frame: f, into: $0) }
                }
                let kind = packet.withUnsafeBytes {
                    opener.open(UnsafeRawBufferPointer(rebasing: $0[0..<length]), isKnown: { $0 == 0x1234 })
                }
                guard kind == .audio else { throw TransportCipher.Failure.authenticationFailed }
            }
            for _ in 0..<100 { try once() }
            let before = alloc_counter_thread(alloc_counter_gettid())
            for _ in 0..<1000 { try once() }
            let allocations = alloc_counter_thread(alloc_counter_gettid()) - before
            XCTAssertEqual(allocations, 0, "\(mode): allocations in 1000 packets")
        }
    }
}
