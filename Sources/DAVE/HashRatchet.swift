import MLS

/// Per-sender hash ratchet (mlspp `HashRatchet`, RFC 9420 §9.1) producing one AES-128 key per generation.
///
/// Uses MLS's `ExpandWithLabel`, which runs HKDF-Expand on HMAC-SHA256 directly and so accepts the 16-byte base
/// secret (dave.md §6). Keys for skipped generations are cached until erased; a generation below the ratchet's position whose key
/// was erased can no longer be derived (forward secrecy).
public final class SenderKeyRatchet {
    /// Length of the exported base secret and of every derived key.
    public static let keyLength = 16
    private var nextGeneration: UInt32 = 0
    private var nextSecret: [UInt8]
    private var cachedKeys: [UInt32: [UInt8]] = [:]
    private var cachedNonces: [UInt32: [UInt8]] = [:]

    /// Creates a ratchet whose generation-0 secret is `baseSecret` (16 bytes from the MLS exporter).
    public init(baseSecret: [UInt8]) {
        self.nextSecret = baseSecret
    }

    /// The AES-128 key of `generation`, or `nil` once that generation has been erased.
    public func key(forGeneration generation: UInt32) -> [UInt8]? {
        guard advance(to: generation) else { return nil }
        return cachedKeys[generation]
    }

    /// The ratchet nonce of `generation` (derived for completeness and vectors; DAVE frames do not use it).
    public func nonce(forGeneration generation: UInt32) -> [UInt8]? {
        guard advance(to: generation) else { return nil }
        return cachedNonces[generation]
    }

    /// Forgets the key of `generation`; later requests for it return `nil`.
    public func eraseKey(forGeneration generation: UInt32) {
        cachedKeys[generation] = nil
        cachedNonces[generation] = nil
    }

    private func advance(to generation: UInt32) -> Bool {
        if cachedKeys[generation] != nil { return true }
        guard generation >= nextGeneration else { return false }
        while nextGeneration <= generation {
            let context = bigEndian32(nextGeneration)
            // Constant lengths: ExpandWithLabel cannot refuse them; a refusal just leaves the generation unavailable.
            guard let key = try? CipherSuite.expandWithLabel(nextSecret, "key", context, Self.keyLength),
                let nonce = try? CipherSuite.expandWithLabel(nextSecret, "nonce", context, 12),
                let secret = try? CipherSuite.expandWithLabel(nextSecret, "secret", context, 32)
            else { return false }
            cachedKeys[nextGeneration] = key
            cachedNonces[nextGeneration] = nonce
            nextSecret = secret
            if nextGeneration == UInt32.max { break }
            nextGeneration += 1
        }
        return true
    }

    private func bigEndian32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
