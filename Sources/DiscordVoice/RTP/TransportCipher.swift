import CSodium
import Crypto

/// One voice session's transport AEAD (rtpsize modes): seals and opens into caller buffers with no allocation.
///
/// XChaCha20-Poly1305 is libsodium's. AES-256-GCM is libsodium's precomputed-key form when the CPU has AES-NI and
/// CLMUL (libsodium refuses it otherwise); without them it falls back to swift-crypto's `AES.GCM`, which allocates
/// its result per packet. The nonce is 4 counter bytes copied into the start of an otherwise zero nonce.
public final class TransportCipher: @unchecked Sendable {
    // @unchecked: immutable after init except for the raw key state, which libsodium only reads after beforenm.

    /// Whether libsodium's hardware AES-256-GCM is usable on this CPU.
    public static let aesGCMAvailable: Bool = {
        sodiumReady
        return crypto_aead_aes256gcm_is_available() == 1
    }()

    /// `sodium_init` once per process (idempotent; thread-safe in libsodium).
    private static let sodiumReady: Void = { _ = sodium_init() }()

    /// Why sealing or opening failed.
    public enum Failure: Error, Equatable, Sendable {
        /// The secret key is not 32 bytes.
        case badKeyLength(Int)
        /// The output buffer cannot hold the result.
        case outputTooSmall
        /// Authentication failed: wrong key, tampered or truncated packet.
        case authenticationFailed
    }

    public let mode: TransportMode
    /// 32-byte key, then (AES-GCM on libsodium) the expanded key state, 16-byte aligned.
    private let storage: UnsafeMutableRawPointer
    private let useSodiumAES: Bool
    private let swiftKey: SymmetricKey?

    /// Creates the cipher for `mode` with Session Description's 32-byte `secret_key`.
    /// - Parameter forceSwiftCrypto: use swift-crypto for AES-GCM even with AES-NI (tests cross-check both).
    public init(mode: TransportMode, key: [UInt8], forceSwiftCrypto: Bool = false) throws(Failure) {
        Self.sodiumReady
        guard key.count == 32 else { throw .badKeyLength(key.count) }
        self.mode = mode
        let stateSize = crypto_aead_aes256gcm_statebytes()
        storage = .allocate(byteCount: 32 + 16 + stateSize, alignment: 16)
        storage.copyMemory(from: key, byteCount: 32)
        useSodiumAES = mode == .aes256GCM && Self.aesGCMAvailable && !forceSwiftCrypto
        swiftKey = mode == .aes256GCM && !useSodiumAES ? SymmetricKey(data: key) : nil
        if useSodiumAES {
            _ = crypto_aead_aes256gcm_beforenm(aesState, storage.assumingMemoryBound(to: UInt8.self))
        }
    }

    deinit {
        sodium_memzero(storage, 32 + 16 + crypto_aead_aes256gcm_statebytes())
        storage.deallocate()
    }

    private var keyPointer: UnsafePointer<UInt8> { UnsafePointer(storage.assumingMemoryBound(to: UInt8.self)) }
    private var aesState: UnsafeMutablePointer<crypto_aead_aes256gcm_state> {
        (storage + 48).assumingMemoryBound(to: crypto_aead_aes256gcm_state.self)
    }

    /// Encrypts `plaintext` into `ciphertext` (same length) and writes the 16-byte tag to `tag`.
    /// `nonce` is the 4 counter bytes as they appear on the wire.
    public func seal(
        plaintext: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, nonce: UInt32,
        ciphertext: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer
    ) throws(Failure) {
        guard ciphertext.count >= plaintext.count, tag.count >= TransportMode.tagLength else { throw .outputTooSmall }
        var fullNonce = Self.nonce(nonce)
        let ok: Bool = withUnsafeMutableBytes(of: &fullNonce) { n in
            let np = n.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let c = pointer(ciphertext.baseAddress)
            let m = UnsafePointer(pointer(plaintext.baseAddress.map(UnsafeMutableRawPointer.init(mutating:))))
            let a = aad.baseAddress?.assumingMemoryBound(to: UInt8.self)
            let t = tag.baseAddress!.assumingMemoryBound(to: UInt8.self)
            switch mode {
            case .xchacha20Poly1305:
                return crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
                    c, t, nil, m, UInt64(plaintext.count), a, UInt64(aad.count), nil, np, keyPointer) == 0
            case .aes256GCM where useSodiumAES:
                return crypto_aead_aes256gcm_encrypt_detached_afternm(
                    c, t, nil, m, UInt64(plaintext.count), a, UInt64(aad.count), nil, np, aesState) == 0
            case .aes256GCM:
                return swiftCryptoSeal(plaintext, aad, UnsafeRawBufferPointer(start: np, count: 12), ciphertext, tag)
            }
        }
        if !ok { throw .authenticationFailed }
    }

    /// Decrypts `ciphertext` into `plaintext` (same length) if `tag` authenticates it with `aad`.
    public func open(
        ciphertext: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
        nonce: UInt32, plaintext: UnsafeMutableRawBufferPointer
    ) throws(Failure) {
        guard plaintext.count >= ciphertext.count else { throw .outputTooSmall }
        guard tag.count == TransportMode.tagLength else { throw .authenticationFailed }
        var fullNonce = Self.nonce(nonce)
        let ok: Bool = withUnsafeMutableBytes(of: &fullNonce) { n in
            let np = n.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let m = pointer(plaintext.baseAddress)
            let c = UnsafePointer(pointer(ciphertext.baseAddress.map(UnsafeMutableRawPointer.init(mutating:))))
            let a = aad.baseAddress?.assumingMemoryBound(to: UInt8.self)
            let t = tag.baseAddress!.assumingMemoryBound(to: UInt8.self)
            switch mode {
            case .xchacha20Poly1305:
                return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
                    m, nil, c, UInt64(ciphertext.count), t, a, UInt64(aad.count), np, keyPointer) == 0
            case .aes256GCM where useSodiumAES:
                return crypto_aead_aes256gcm_decrypt_detached_afternm(
                    m, nil, c, UInt64(ciphertext.count), t, a, UInt64(aad.count), np, aesState) == 0
            case .aes256GCM:
                return swiftCryptoOpen(ciphertext, tag, aad, UnsafeRawBufferPointer(start: np, count: 12), plaintext)
            }
        }
        if !ok { throw .authenticationFailed }
    }

    /// Empty buffers have no base address; libsodium still wants a pointer (it touches 0 bytes there), so empty
    /// buffers point at the 16 unused bytes between the key and the AES state.
    @inline(__always)
    private func pointer(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<UInt8> {
        (raw ?? storage + 32).assumingMemoryBound(to: UInt8.self)
    }

    /// 24 bytes, enough for either mode; the counter bytes go first (big-endian as discord.js writes them; a
    /// receiver only copies the 4 wire bytes, which is the same thing).
    @inline(__always)
    private static func nonce(_ counter: UInt32) -> (UInt64, UInt64, UInt64) {
        var nonce: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &nonce) { RTPHeader.put(counter, $0, 0) }
        return nonce
    }

    private func swiftCryptoSeal(
        _ plaintext: UnsafeRawBufferPointer, _ aad: UnsafeRawBufferPointer,
        _ nonce: UnsafeRawBufferPointer, _ ciphertext: UnsafeMutableRawBufferPointer,
        _ tag: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard let swiftKey, let gcmNonce = try? AES.GCM.Nonce(data: nonce),
            let box = try? AES.GCM.seal(plaintext, using: swiftKey, nonce: gcmNonce, authenticating: aad)
        else { return false }
        box.ciphertext.withUnsafeBytes { ciphertext.copyMemory(from: $0) }
        box.tag.withUnsafeBytes { tag.copyMemory(from: $0) }
        return true
    }

    private func swiftCryptoOpen(
        _ ciphertext: UnsafeRawBufferPointer, _ tag: UnsafeRawBufferPointer,
        _ aad: UnsafeRawBufferPointer, _ nonce: UnsafeRawBufferPointer,
        _ plaintext: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard let swiftKey, let gcmNonce = try? AES.GCM.Nonce(data: nonce),
            let box = try? AES.GCM.SealedBox(nonce: gcmNonce, ciphertext: ciphertext, tag: tag),
            let opened = try? AES.GCM.open(box, using: swiftKey, authenticating: aad)
        else { return false }
        opened.withUnsafeBytes { plaintext.copyMemory(from: $0) }
        return true
    }
}
