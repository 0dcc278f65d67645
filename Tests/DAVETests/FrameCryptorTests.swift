import Realtime
import XCTest

@testable import DAVE

final class FrameCryptorTests: XCTestCase {
    private let base = TestSupport.bytes(hex: "cedd61b1b8a1ca69046554282cf70b7b")
    private let opus: [UInt8] = (0..<120).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }

    private func pair(clock: ManualClock) -> (FrameEncryptor, FrameDecryptor) {
        let encryptor = FrameEncryptor()
        encryptor.setRatchet(SenderKeyRatchet(baseSecret: base))
        let decryptor = FrameDecryptor(clock: clock)
        decryptor.transition(to: SenderKeyRatchet(baseSecret: base))
        return (encryptor, decryptor)
    }

    func testFirstFrameLayoutAndRoundTrip() throws {
        let clock = ManualClock()
        let (encryptor, decryptor) = pair(clock: clock)
        let frame = try encryptor.encrypt(opus: opus)
        XCTAssertEqual(frame.count, opus.count + 8 + 1 + 1 + 2)
        XCTAssertEqual(Array(frame.suffix(4)), [0x01, 0x0C, 0xFA, 0xFA], "nonce 1, S = 12, marker")
        XCTAssertNotEqual(Array(frame.prefix(opus.count)), opus)
        XCTAssertEqual(try decryptor.decrypt(frame: frame), opus)
    }

    /// AES-128-GCM with the generation-0 key, nonce 00×8 ‖ 01 00 00 00, empty AAD, truncated tag: matches a direct
    /// swift-crypto seal (the full tag's first 8 bytes), independent of the frame code.
    func testCiphertextMatchesDirectGCM() throws {
        let encryptor = FrameEncryptor()
        encryptor.setRatchet(SenderKeyRatchet(baseSecret: base))
        let frame = try encryptor.encrypt(opus: opus)
        let key = SymmetricKeyBytes.generationZeroKey
        let nonce = try AESGCMReference.nonce(littleEndianCounter: 1)
        let sealed = try AESGCMReference.seal(opus, key: key, nonce: nonce)
        XCTAssertEqual(Array(frame.prefix(opus.count + 8)), sealed.ciphertext + Array(sealed.tag.prefix(8)))
    }

    func testReplayIsRejectedAndGapsAreAccepted() throws {
        let clock = ManualClock()
        let (encryptor, decryptor) = pair(clock: clock)
        let frames = try (0..<5).map { _ in try encryptor.encrypt(opus: opus) }
        XCTAssertEqual(try decryptor.decrypt(frame: frames[0]), opus)
        XCTAssertEqual(try decryptor.decrypt(frame: frames[3]), opus)
        XCTAssertThrowsError(try decryptor.decrypt(frame: frames[3])) {
            XCTAssertEqual($0 as? DAVEFrameError, .replayedNonce)
        }
        XCTAssertEqual(try decryptor.decrypt(frame: frames[1]), opus, "recorded gap")
        XCTAssertThrowsError(try decryptor.decrypt(frame: frames[1])) {
            XCTAssertEqual($0 as? DAVEFrameError, .replayedNonce)
        }
        XCTAssertEqual(try decryptor.decrypt(frame: frames[2]), opus)
        XCTAssertEqual(try decryptor.decrypt(frame: frames[4]), opus)
    }

    func testTamperedFrameFailsAuthentication() throws {
        let clock = ManualClock()
        let (encryptor, decryptor) = pair(clock: clock)
        var frame = try encryptor.encrypt(opus: opus)
        frame[5] ^= 0x01
        XCTAssertThrowsError(try decryptor.decrypt(frame: frame)) {
            XCTAssertEqual($0 as? DAVEFrameError, .authenticationFailed)
        }
        var tag = try encryptor.encrypt(opus: opus)
        tag[opus.count] ^= 0x80
        XCTAssertThrowsError(try decryptor.decrypt(frame: tag))
    }

    func testSilencePassesThroughUnencrypted() throws {
        let clock = ManualClock()
        let (encryptor, decryptor) = pair(clock: clock)
        XCTAssertEqual(try encryptor.encrypt(opus: [0xF8, 0xFF, 0xFE]), [0xF8, 0xFF, 0xFE])
        XCTAssertEqual(try decryptor.decrypt(frame: [0xF8, 0xFF, 0xFE]), [0xF8, 0xFF, 0xFE])
    }

    func testPlainFramesOnlyDuringPassthrough() throws {
        let clock = ManualClock()
        let decryptor = FrameDecryptor(clock: clock)
        XCTAssertThrowsError(try decryptor.decrypt(frame: opus)) {
            XCTAssertEqual($0 as? DAVEFrameError, .unencryptedFrameRejected)
        }
        decryptor.setPassthrough(true)
        XCTAssertEqual(try decryptor.decrypt(frame: opus), opus)
        decryptor.setPassthrough(false)
        clock.advance(seconds: 9.5)
        XCTAssertEqual(try decryptor.decrypt(frame: opus), opus, "still inside the 10 s window")
        clock.advance(seconds: 1)
        XCTAssertThrowsError(try decryptor.decrypt(frame: opus))
    }

    func testPreviousRatchetLivesTenSecondsAfterTransition() throws {
        let clock = ManualClock()
        let (oldEncryptor, decryptor) = pair(clock: clock)
        let newBase = Array(base.reversed())
        let newEncryptor = FrameEncryptor()
        newEncryptor.setRatchet(SenderKeyRatchet(baseSecret: newBase))
        XCTAssertEqual(try decryptor.decrypt(frame: oldEncryptor.encrypt(opus: opus)), opus)
        decryptor.transition(to: SenderKeyRatchet(baseSecret: newBase))
        XCTAssertEqual(try decryptor.decrypt(frame: newEncryptor.encrypt(opus: opus)), opus)
        clock.advance(seconds: 9)
        XCTAssertEqual(try decryptor.decrypt(frame: oldEncryptor.encrypt(opus: opus)), opus)
        clock.advance(seconds: 2)
        XCTAssertThrowsError(try decryptor.decrypt(frame: oldEncryptor.encrypt(opus: opus)))
        XCTAssertEqual(try decryptor.decrypt(frame: newEncryptor.encrypt(opus: opus)), opus)
    }

    func testRetiredSenderLapsesAfterTenSeconds() throws {
        let clock = ManualClock()
        let (encryptor, decryptor) = pair(clock: clock)
        decryptor.retire()
        clock.advance(seconds: 9)
        XCTAssertEqual(try decryptor.decrypt(frame: encryptor.encrypt(opus: opus)), opus)
        clock.advance(seconds: 2)
        XCTAssertThrowsError(try decryptor.decrypt(frame: encryptor.encrypt(opus: opus))) {
            XCTAssertEqual($0 as? DAVEFrameError, .missingKey)
        }
    }

    func testGenerationBoundByRatchetAge() throws {
        let clock = ManualClock()
        let (_, decryptor) = pair(clock: clock)
        // A frame claiming generation 1 (nonce 0x01000001, LEB128 81 80 80 08, S = 15) from a new ratchet.
        let frame = opus + [UInt8](repeating: 0, count: 8) + [0x81, 0x80, 0x80, 0x08, 0x0F, 0xFA, 0xFA]
        XCTAssertThrowsError(try decryptor.decrypt(frame: frame)) {
            XCTAssertEqual($0 as? DAVEFrameError, .generationUnavailable)
        }
    }

    /// After 2^24 frames the generation byte advances; after 2^32 the nonce wraps and the generation keeps
    /// counting (256), each with its own ratchet key.
    func testEncryptorGenerationsAdvanceAndWrap() throws {
        let ratchet = SenderKeyRatchet(baseSecret: base)
        let encryptor = FrameEncryptor()
        encryptor.setRatchet(SenderKeyRatchet(baseSecret: base))
        encryptor.truncatedNonce = 0x00FF_FFFF
        let first = try encryptor.encrypt(opus: opus)
        XCTAssertEqual(Array(first.suffix(7)), [0x80, 0x80, 0x80, 0x08, 0x0F, 0xFA, 0xFA], "nonce 0x01000000")
        try assertSealed(first, key: XCTUnwrap(ratchet.key(forGeneration: 1)), nonce: 0x0100_0000)
        encryptor.currentGeneration = 255
        encryptor.truncatedNonce = 0xFFFF_FFFF
        let wrapped = try encryptor.encrypt(opus: opus)
        XCTAssertEqual(Array(wrapped.suffix(4)), [0x00, 0x0C, 0xFA, 0xFA], "nonce wraps to 0")
        try assertSealed(wrapped, key: XCTUnwrap(ratchet.key(forGeneration: 256)), nonce: 0)
    }

    func testReceiverAcceptsGenerationOneOnceTheRatchetIsOldEnough() throws {
        let clock = ManualClock()
        let (encryptor, decryptor) = pair(clock: clock)
        let early = try encryptor.encrypt(opus: opus)
        XCTAssertEqual(try decryptor.decrypt(frame: early), opus)
        let held = try encryptor.encrypt(opus: opus)
        encryptor.truncatedNonce = 0x00FF_FFFF
        let next = try encryptor.encrypt(opus: opus)
        XCTAssertThrowsError(try decryptor.decrypt(frame: next)) {
            XCTAssertEqual($0 as? DAVEFrameError, .generationUnavailable, "170 frames/s cannot reach 2^24 yet")
        }
        clock.advance(seconds: 100_000)
        XCTAssertEqual(try decryptor.decrypt(frame: next), opus)
        XCTAssertThrowsError(try decryptor.decrypt(frame: held)) {
            XCTAssertEqual($0 as? DAVEFrameError, .replayedNonce, "more than 1000 nonces behind the newest")
        }
    }

    private func assertSealed(_ frame: [UInt8], key: [UInt8], nonce: UInt32) throws {
        let sealed = try AESGCMReference.seal(opus, key: key, nonce: AESGCMReference.nonce(littleEndianCounter: nonce))
        XCTAssertEqual(Array(frame.prefix(opus.count + 8)), sealed.ciphertext + Array(sealed.tag.prefix(8)))
    }

    func testGenerationRollsOverAfter2To24Frames() {
        let window = ReceiveKeyWindow(clock: ManualClock(), ratchet: SenderKeyRatchet(baseSecret: base))
        XCTAssertEqual(window.unwrapGeneration(0), 0)
        XCTAssertEqual(window.unwrapGeneration(255), 255)
        XCTAssertEqual(ReceiveKeyWindow.wrappedNonce(generation: 256, truncatedNonce: 0x0000_0005), 256 << 24 | 5)
    }

    func testMalformedTrailersAreNotDAVEFrames() throws {
        let clock = ManualClock()
        let (_, decryptor) = pair(clock: clock)
        let malformed: [[UInt8]] = [
            [0xFA, 0xFA],
            Array(repeating: 0, count: 20) + [0xFF, 0xFA, 0xFA],
            Array(repeating: 0, count: 20) + [0x05, 0xFA, 0xFA],
            Array(repeating: 0, count: 8) + [0x80, 0x80, 0x0D, 0xFA, 0xFA],
            Array(repeating: 0x80, count: 12) + [0x0F, 0xFA, 0xFA],
        ]
        for frame in malformed {
            XCTAssertThrowsError(try decryptor.decrypt(frame: frame)) {
                XCTAssertEqual($0 as? DAVEFrameError, .unencryptedFrameRejected)
            }
        }
    }

    func testMissingKey() {
        XCTAssertThrowsError(try FrameEncryptor().encrypt(opus: opus)) {
            XCTAssertEqual($0 as? DAVEFrameError, .missingKey)
        }
        XCTAssertThrowsError(
            try FrameDecryptor(clock: ManualClock()).decrypt(frame: [0, 0, 0, 0, 0, 0, 0, 0, 1, 0x0C, 0xFA, 0xFA])
        ) {
            XCTAssertEqual($0 as? DAVEFrameError, .missingKey)
        }
    }

    /// libdave `CryptorManager::GetCryptor`: a generation more than 250 past the newest successful one is refused
    /// even when the ratchet is old enough for it; after a success the bound moves with the newest generation.
    func testGenerationMoreThan250AheadOfTheNewestIsRejected() {
        let clock = ManualClock()
        let window = ReceiveKeyWindow(clock: clock, ratchet: SenderKeyRatchet(baseSecret: base))
        clock.advance(seconds: 400 * 86_400)  // age bound (170 × 34 560 000) >> 24 = 350 generations
        XCTAssertNil(window.cipher(forGeneration: 251), "251 > newest (0) + 250")
        XCTAssertNotNil(window.cipher(forGeneration: 250))
        window.reportSuccess(generation: 250, truncatedNonce: 250 << 24 | 1)
        XCTAssertNotNil(window.cipher(forGeneration: 300), "now within newest (250) + 250")
        XCTAssertNil(window.cipher(forGeneration: 351), "still bounded by the ratchet's age")
    }
}
