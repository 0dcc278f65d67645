import Crypto

/// Direct swift-crypto GCM used as an independent reference in tests.
enum AESGCMReference {
    static func nonce(littleEndianCounter counter: UInt32) throws -> AES.GCM.Nonce {
        try AES.GCM.Nonce(data: [UInt8](repeating: 0, count: 8) + withUnsafeBytes(of: counter.littleEndian, Array.init))
    }

    static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: AES.GCM.Nonce) throws -> (
        ciphertext: [UInt8], tag: [UInt8]
    ) {
        let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: key), nonce: nonce)
        return (Array(box.ciphertext), Array(box.tag))
    }
}

enum SymmetricKeyBytes {
    /// Generation-0 key of base `cedd61b1…` from hash-ratchet.json.
    static let generationZeroKey = TestSupport.bytes(hex: "7530f9a9945e2d2e06d0651f7b2a864b")
}
