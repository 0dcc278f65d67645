import Crypto
import _CryptoExtras

/// scrypt (RFC 7914), used for DAVE pairwise verification fingerprints: swift-crypto's `KDF.Scrypt` (BoringSSL's
/// `EVP_PBE_scrypt`, PBKDF2-HMAC-SHA256 inside), with the parameters bounded before anything is allocated.
enum Scrypt {
    /// Why scrypt parameters were refused.
    enum ParameterError: Error { case invalid }

    /// Derives `length` bytes; `costLog2` is log2(N).
    static func derive(
        password: [UInt8], salt: [UInt8], costLog2: Int, blockSize r: Int, parallelism p: Int,
        length: Int
    ) throws -> [UInt8] {
        // N ≤ 2^23 and r·p < 2^20 keep the table (128·r·N bytes) and the work bounded; BoringSSL checks the rest.
        guard costLog2 > 0, costLog2 < 24, (1..<(1 << 20)).contains(r), (1..<(1 << 20)).contains(p), r * p < 1 << 20,
            length > 0, length <= 1 << 16
        else {
            throw ParameterError.invalid
        }
        let key = try KDF.Scrypt.deriveKey(
            from: password, salt: salt, outputByteCount: length, rounds: 1 << costLog2,
            blockSize: r, parallelism: p)
        return key.withUnsafeBytes { Array($0) }
    }
}
