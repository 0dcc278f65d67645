import Crypto
import Foundation

/// RFC 9420 `ExpandWithLabel` built on HMAC-SHA256 directly, because DAVE's ratchet base secret is 16 bytes
/// and some HKDF APIs reject a pseudo-random key shorter than the hash (dave.md §6).
enum DAVEKeyDerivation {
    /// `HKDF-Expand-SHA256(secret, u16 length ‖ <V>("MLS 1.0 " + label) ‖ <V>context, length)`.
    static func expandWithLabel(secret: [UInt8], label: String, context: [UInt8], length: Int) -> [UInt8] {
        var info: [UInt8] = [UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
        let fullLabel = Array("MLS 1.0 \(label)".utf8)
        appendVarintLength(fullLabel.count, to: &info)
        info += fullLabel
        appendVarintLength(context.count, to: &info)
        info += context
        return hkdfExpand(prk: secret, info: info, length: length)
    }

    /// HKDF-Expand (RFC 5869) over HMAC-SHA256 accepting any key length.
    static func hkdfExpand(prk: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        let key = SymmetricKey(data: prk)
        var output: [UInt8] = []
        output.reserveCapacity(length)
        var previous: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            var hmac = HMAC<SHA256>(key: key)
            hmac.update(data: previous)
            hmac.update(data: info)
            hmac.update(data: [counter])
            previous = Array(hmac.finalize())
            output += previous
            counter &+= 1
        }
        return Array(output.prefix(length))
    }

    /// RFC 9420 §2.1.2 variable-length integer prefix (minimal encoding).
    static func appendVarintLength(_ length: Int, to buffer: inout [UInt8]) {
        if length < 0x40 {
            buffer.append(UInt8(length))
        } else if length < 0x4000 {
            buffer += [UInt8(0x40 | (length >> 8)), UInt8(length & 0xFF)]
        } else {
            buffer += [UInt8(0x80 | ((length >> 24) & 0x3F)), UInt8((length >> 16) & 0xFF),
                       UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
        }
    }
}

/// Per-sender hash ratchet (mlspp `HashRatchet`, RFC 9420 §9.1) producing one AES-128 key per generation.
///
/// Keys for skipped generations are cached until erased; a generation below the ratchet's position whose key
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
            cachedKeys[nextGeneration] = DAVEKeyDerivation.expandWithLabel(
                secret: nextSecret, label: "key", context: context, length: Self.keyLength)
            cachedNonces[nextGeneration] = DAVEKeyDerivation.expandWithLabel(
                secret: nextSecret, label: "nonce", context: context, length: 12)
            nextSecret = DAVEKeyDerivation.expandWithLabel(
                secret: nextSecret, label: "secret", context: context, length: 32)
            if nextGeneration == UInt32.max { break }
            nextGeneration += 1
        }
        return true
    }

    private func bigEndian32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
