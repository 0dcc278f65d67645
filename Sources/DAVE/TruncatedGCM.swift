import CLibCrypto

/// AES-128-GCM with the tag truncated to 8 bytes (dave.md §5), on libcrypto's EVP interface as libdave does.
///
/// swift-crypto only offers 16-byte tags and builds a fresh context and output buffers on every call (about ten
/// heap allocations per frame). Here each key gets two EVP contexts, keyed once; a frame only sets the IV, runs one
/// GCM pass and reads or checks the 8-byte tag, writing into caller-owned memory, so nothing is allocated per frame.
/// Not thread-safe: one owner (an encryptor or one receive window) uses it.
final class TruncatedAESGCM {
    /// Bytes of a DAVE media key.
    static let keyLength = 16
    private let sealContext: OpaquePointer
    private let openContext: OpaquePointer

    /// Creates a cipher for a 16-byte key; `nil` if the key has another length or libcrypto refuses it.
    init?(key: [UInt8]) {
        guard key.count == Self.keyLength, let seal = EVP_CIPHER_CTX_new() else { return nil }
        guard let open = EVP_CIPHER_CTX_new() else {
            EVP_CIPHER_CTX_free(seal)
            return nil
        }
        sealContext = seal
        openContext = open
        let keyed = key.withUnsafeBufferPointer { key in
            EVP_EncryptInit_ex(seal, EVP_aes_128_gcm(), nil, key.baseAddress, nil) == 1
                && EVP_DecryptInit_ex(open, EVP_aes_128_gcm(), nil, key.baseAddress, nil) == 1
        }
        guard keyed else { return nil }
    }

    deinit {
        EVP_CIPHER_CTX_free(sealContext)
        EVP_CIPHER_CTX_free(openContext)
    }

    /// Encrypts `plaintext` into `output`, which must be exactly `plaintext.count + 8` bytes: the ciphertext, then
    /// the first 8 bytes of the GCM tag. Returns `false` if libcrypto failed.
    func seal(
        _ plaintext: UnsafeRawBufferPointer, truncatedNonce: UInt32, into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        let tagLength = DAVEFrameFormat.tagLength
        guard output.count == plaintext.count + tagLength, plaintext.count <= Int(Int32.max) - tagLength,
            let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return false }
        var nonce = Self.nonce(truncatedNonce)
        let started = withUnsafeBytes(of: &nonce) { iv in
            EVP_EncryptInit_ex(sealContext, nil, nil, nil, iv.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1
        }
        guard started else { return false }
        var written: Int32 = 0
        if let input = plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), plaintext.count > 0 {
            guard EVP_EncryptUpdate(sealContext, out, &written, input, Int32(plaintext.count)) == 1,
                Int(written) == plaintext.count
            else { return false }
        }
        var finalLength: Int32 = 0
        guard EVP_EncryptFinal_ex(sealContext, out + plaintext.count, &finalLength) == 1, finalLength == 0 else {
            return false
        }
        return EVP_CIPHER_CTX_ctrl(
            sealContext, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), out + plaintext.count) == 1
    }

    /// Decrypts `ciphertext` into `output` (exactly `ciphertext.count` bytes) and checks the 8-byte `tag`.
    /// Returns `false` when authentication fails; `output` then holds unauthenticated bytes the caller must discard.
    func open(
        ciphertext: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer, truncatedNonce: UInt32,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        let tagLength = DAVEFrameFormat.tagLength
        guard tag.count == tagLength, output.count == ciphertext.count, ciphertext.count <= Int(Int32.max),
            let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return false }
        var nonce = Self.nonce(truncatedNonce)
        let started = withUnsafeBytes(of: &nonce) { iv in
            EVP_DecryptInit_ex(openContext, nil, nil, nil, iv.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1
        }
        guard started else { return false }
        var written: Int32 = 0
        if let input = ciphertext.baseAddress?.assumingMemoryBound(to: UInt8.self), ciphertext.count > 0 {
            guard EVP_DecryptUpdate(openContext, out, &written, input, Int32(ciphertext.count)) == 1,
                Int(written) == ciphertext.count
            else { return false }
        }
        // The expected tag goes in through a mutable pointer (EVP_CIPHER_CTX_ctrl's signature); copy it to the stack.
        var expected: UInt64 = 0
        withUnsafeMutableBytes(of: &expected) { $0.copyMemory(from: tag) }
        let tagSet = withUnsafeMutableBytes(of: &expected) {
            EVP_CIPHER_CTX_ctrl(openContext, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), $0.baseAddress) == 1
        }
        guard tagSet else { return false }
        // Final compares the tag (in constant time inside libcrypto) and writes nothing for GCM.
        var finalLength: Int32 = 0
        return EVP_DecryptFinal_ex(openContext, out + ciphertext.count, &finalLength) == 1 && finalLength == 0
    }

    /// GCM nonce for a DAVE truncated nonce: 8 zero bytes then the u32 little-endian (dave.md §5), on the stack.
    private static func nonce(_ truncated: UInt32) -> (UInt32, UInt32, UInt32) { (0, 0, truncated.littleEndian) }
}
