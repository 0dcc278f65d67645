import Crypto
import Foundation

/// AES-128-GCM with the tag truncated to 8 bytes, on swift-crypto which only offers 16-byte tags (dave.md §7).
///
/// Encrypt is one GCM pass. Decrypt is two: GCM is CTR-based, so sealing the ciphertext recovers the plaintext
/// candidate, and sealing that candidate recomputes the full tag, whose first 8 bytes are compared in constant time
/// with the received tag before anything is released.
struct TruncatedAESGCM {
    let key: SymmetricKey

    /// Creates a cipher for a 16-byte key.
    init(key: [UInt8]) { self.key = SymmetricKey(data: key) }

    /// GCM nonce for a DAVE truncated nonce: 8 zero bytes then the u32 little-endian (built on the stack).
    static func nonce(truncated: UInt32) -> AES.GCM.Nonce {
        let words: (UInt32, UInt32, UInt32) = (0, 0, truncated.littleEndian)
        return withUnsafeBytes(of: words) { bytes in
            // 12 bytes is always a valid GCM nonce length.
            try! AES.GCM.Nonce(data: bytes)
        }
    }

    /// Encrypts `plaintext` and appends `ciphertext ‖ tag[0..<8]` to `output`.
    func seal<P: DataProtocol>(_ plaintext: P, truncatedNonce: UInt32, appendingTo output: inout [UInt8]) throws {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: Self.nonce(truncated: truncatedNonce))
        output.append(contentsOf: box.ciphertext)
        output.append(contentsOf: box.tag.prefix(DAVEFrameFormat.tagLength))
    }

    /// Decrypts `ciphertext`, checks the 8-byte `tag`, and on success appends the plaintext to `output`.
    /// Returns `false` (leaving `output` untouched) when authentication fails.
    func open(
        ciphertext: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer, truncatedNonce: UInt32,
        appendingTo output: inout [UInt8]
    ) throws -> Bool {
        let nonce = Self.nonce(truncated: truncatedNonce)
        let candidate = try AES.GCM.seal(ciphertext, using: key, nonce: nonce).ciphertext
        let recomputed = try AES.GCM.seal(candidate, using: key, nonce: nonce).tag
        guard Self.constantTimeEqualPrefix(recomputed, tag, length: DAVEFrameFormat.tagLength) else { return false }
        output.append(contentsOf: candidate)
        return true
    }

    /// Compares the first `length` bytes without data-dependent branches.
    static func constantTimeEqualPrefix(_ lhs: Data, _ rhs: UnsafeRawBufferPointer, length: Int) -> Bool {
        guard lhs.count >= length, rhs.count >= length else { return false }
        var difference: UInt8 = 0
        var index = 0
        for byte in lhs.prefix(length) {
            difference |= byte ^ rhs[index]
            index += 1
        }
        return difference == 0
    }
}
