import Crypto
import Foundation

/// Cipher suite 2, `MLS_128_DHKEMP256_AES128GCM_SHA256_P256`, and the labelled operations of RFC 9420 §5.
public enum CipherSuite {
    /// The IANA cipher suite number.
    public static let id: UInt16 = 2
    /// Output length of the hash / KDF.
    public static let hashLength = 32
    static let aeadKeyLength = 16
    static let aeadNonceLength = 12

    /// SHA-256.
    public static func hash(_ data: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: data)) }

    /// HMAC-SHA256 (the MLS `MAC`).
    public static func mac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    /// HKDF-Extract.
    public static func extract(salt: [UInt8], ikm: [UInt8]) -> [UInt8] { mac(key: salt, data: ikm) }

    /// Largest HKDF-Expand output (255 blocks of SHA-256, RFC 5869); also below ExpandWithLabel's u16 length.
    public static let maxExpandLength = 255 * hashLength

    /// HKDF-Expand written on HMAC so PRKs shorter than the hash length are accepted.
    /// - Throws: `MLSError.invalidValue` when `length` is outside `0...maxExpandLength`.
    public static func expand(prk: [UInt8], info: [UInt8], length: Int) throws -> [UInt8] {
        try checkExpandLength(length)
        return hkdfExpand(prk: prk, info: info, length: length)
    }

    /// HKDF-Expand for lengths already known to be in `0...maxExpandLength` (cipher-suite constants).
    static func hkdfExpand(prk: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        var output: [UInt8] = []
        var block: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            block = mac(key: prk, data: block + info + [counter])
            output += block
            counter &+= 1
        }
        return Array(output.prefix(max(0, length)))
    }

    private static func checkExpandLength(_ length: Int) throws {
        guard (0...maxExpandLength).contains(length) else {
            throw MLSError.invalidValue("expand length \(length) outside 0...\(maxExpandLength)")
        }
    }

    /// `ExpandWithLabel(secret, label, context, length)` with the "MLS 1.0 " prefix.
    /// - Throws: `MLSError.invalidValue` when `length` is outside `0...maxExpandLength` (so never above 65535).
    public static func expandWithLabel(_ secret: [UInt8], _ label: [UInt8], _ context: [UInt8], _ length: Int) throws
        -> [UInt8]
    {
        try checkExpandLength(length)
        return labelledExpand(secret, label, context, length)
    }

    /// `ExpandWithLabel` with a text label.
    public static func expandWithLabel(_ secret: [UInt8], _ label: String, _ context: [UInt8], _ length: Int) throws
        -> [UInt8]
    {
        try expandWithLabel(secret, Array(label.utf8), context, length)
    }

    /// `ExpandWithLabel` for cipher-suite constant lengths (≤ `hashLength`), which cannot fail.
    static func labelledExpand(_ secret: [UInt8], _ label: [UInt8], _ context: [UInt8], _ length: Int) -> [UInt8] {
        let length = min(max(0, length), maxExpandLength)
        var w = TLSWriter()
        w.u16(UInt16(length))
        w.opaque(Array("MLS 1.0 ".utf8) + label)
        w.opaque(context)
        return hkdfExpand(prk: secret, info: w.bytes, length: length)
    }

    /// `labelledExpand` with a text label.
    static func labelledExpand(_ secret: [UInt8], _ label: String, _ context: [UInt8], _ length: Int) -> [UInt8] {
        labelledExpand(secret, Array(label.utf8), context, length)
    }

    /// `DeriveSecret(secret, label)`.
    public static func deriveSecret(_ secret: [UInt8], _ label: String) -> [UInt8] {
        labelledExpand(secret, label, [], hashLength)
    }

    /// `DeriveSecret` with a byte-string label (exporter labels).
    public static func deriveSecret(_ secret: [UInt8], _ label: [UInt8]) -> [UInt8] {
        labelledExpand(secret, label, [], hashLength)
    }

    /// `DeriveTreeSecret(secret, label, generation, length)` (RFC 9420 §9.1).
    /// - Throws: `MLSError.invalidValue` for a length `expandWithLabel` refuses.
    public static func deriveTreeSecret(_ secret: [UInt8], _ label: String, generation: UInt32, length: Int) throws
        -> [UInt8]
    {
        var w = TLSWriter()
        w.u32(generation)
        return try expandWithLabel(secret, label, w.bytes, length)
    }

    /// `RefHash(label, value)`; `label` is used verbatim (e.g. "MLS 1.0 KeyPackage Reference").
    public static func refHash(label: String, value: [UInt8]) -> [UInt8] {
        var w = TLSWriter()
        w.opaque(Array(label.utf8))
        w.opaque(value)
        return hash(w.bytes)
    }

    static func labelledContent(_ label: String, _ content: [UInt8]) -> [UInt8] {
        var w = TLSWriter()
        w.opaque(Array("MLS 1.0 \(label)".utf8))
        w.opaque(content)
        return w.bytes
    }

    /// `SignWithLabel`: ECDSA P-256 / SHA-256, DER signature.
    public static func signWithLabel(privateKey: [UInt8], label: String, content: [UInt8]) throws -> [UInt8] {
        let key: P256.Signing.PrivateKey
        do { key = try P256.Signing.PrivateKey(rawRepresentation: privateKey) } catch {
            throw MLSError.crypto("invalid signature private key")
        }
        do {
            return Array(try key.signature(for: labelledContent(label, content)).derRepresentation)
        } catch {
            throw MLSError.crypto("signing failed")
        }
    }

    /// `VerifyWithLabel`; false on malformed keys or signatures.
    public static func verifyWithLabel(publicKey: [UInt8], label: String, content: [UInt8], signature: [UInt8]) -> Bool
    {
        guard let key = try? P256.Signing.PublicKey(x963Representation: publicKey),
            let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature)
        else { return false }
        return key.isValidSignature(sig, for: labelledContent(label, content))
    }

    /// The uncompressed public key for a raw signature private key.
    public static func signaturePublicKey(privateKey: [UInt8]) throws -> [UInt8] {
        do {
            return Array(try P256.Signing.PrivateKey(rawRepresentation: privateKey).publicKey.x963Representation)
        } catch {
            throw MLSError.crypto("invalid signature private key")
        }
    }

    /// A fresh signature key pair (raw 32-byte private scalar, 65-byte uncompressed public key).
    public static func generateSignatureKeyPair() -> (privateKey: [UInt8], publicKey: [UInt8]) {
        let key = P256.Signing.PrivateKey()
        return (Array(key.rawRepresentation), Array(key.publicKey.x963Representation))
    }

    /// Random bytes from the system generator.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// `EncryptWithLabel` (HPKE base mode, info = EncryptContext, empty AAD).
    public static func encryptWithLabel(publicKey: [UInt8], label: String, context: [UInt8], plaintext: [UInt8]) throws
        -> HPKECiphertext
    {
        let (kemOutput, ciphertext) = try HPKE256.sealBase(
            recipientPublicKey: publicKey, info: labelledContent(label, context), aad: [], plaintext: plaintext)
        return HPKECiphertext(kemOutput: kemOutput, ciphertext: ciphertext)
    }

    /// `DecryptWithLabel`.
    public static func decryptWithLabel(
        privateKey: [UInt8], label: String, context: [UInt8], kemOutput: [UInt8], ciphertext: [UInt8]
    ) throws -> [UInt8] {
        try HPKE256.openBase(
            recipientPrivateKey: privateKey, kemOutput: kemOutput, info: labelledContent(label, context), aad: [],
            ciphertext: ciphertext)
    }

    /// HPKE `DeriveKeyPair(ikm)` for DHKEM(P-256): returns (raw private scalar, uncompressed public key).
    public static func deriveKeyPair(_ ikm: [UInt8]) throws -> (privateKey: [UInt8], publicKey: [UInt8]) {
        try HPKE256.deriveKeyPair(ikm: ikm)
    }

    /// The MLS derivation of a node key pair from a path secret: `DeriveKeyPair(DeriveSecret(path_secret, "node"))`.
    static func nodeKeyPair(pathSecret: [UInt8]) throws -> (privateKey: [UInt8], publicKey: [UInt8]) {
        try deriveKeyPair(deriveSecret(pathSecret, "node"))
    }

    /// The HPKE public key for a raw private scalar.
    public static func hpkePublicKey(privateKey: [UInt8]) throws -> [UInt8] {
        do {
            return Array(try P256.KeyAgreement.PrivateKey(rawRepresentation: privateKey).publicKey.x963Representation)
        } catch {
            throw MLSError.crypto("invalid HPKE private key")
        }
    }

    /// A fresh random HPKE key pair.
    public static func generateHPKEKeyPair() -> (privateKey: [UInt8], publicKey: [UInt8]) {
        let key = P256.KeyAgreement.PrivateKey()
        return (Array(key.rawRepresentation), Array(key.publicKey.x963Representation))
    }

    /// AES-128-GCM seal; returns ciphertext ‖ tag.
    static func aeadSeal(key: [UInt8], nonce: [UInt8], aad: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        do {
            let box = try AES.GCM.seal(
                plaintext, using: SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: nonce), authenticating: aad)
            return Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw MLSError.crypto("AEAD seal failed")
        }
    }

    /// AES-128-GCM open of ciphertext ‖ tag.
    static func aeadOpen(key: [UInt8], nonce: [UInt8], aad: [UInt8], ciphertext: [UInt8]) throws -> [UInt8] {
        guard ciphertext.count >= 16 else { throw MLSError.crypto("AEAD ciphertext shorter than tag") }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: nonce), ciphertext: ciphertext.dropLast(16), tag: ciphertext.suffix(16))
            return Array(try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: aad))
        } catch {
            throw MLSError.crypto("AEAD authentication failed")
        }
    }
}

/// RFC 9180 HPKE, base mode, DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM, single-shot.
enum HPKE256 {
    static let kemSuiteID: [UInt8] = Array("KEM".utf8) + [0x00, 0x10]
    static let hpkeSuiteID: [UInt8] = Array("HPKE".utf8) + [0x00, 0x10, 0x00, 0x01, 0x00, 0x01]
    static let version: [UInt8] = Array("HPKE-v1".utf8)

    static func labeledExtract(_ suite: [UInt8], salt: [UInt8], label: String, ikm: [UInt8]) -> [UInt8] {
        CipherSuite.extract(salt: salt, ikm: version + suite + Array(label.utf8) + ikm)
    }

    static func labeledExpand(_ suite: [UInt8], prk: [UInt8], label: String, info: [UInt8], length: Int) -> [UInt8] {
        let info = [UInt8(length >> 8), UInt8(length & 0xFF)] + version + suite + Array(label.utf8) + info
        return CipherSuite.hkdfExpand(prk: prk, info: info, length: length)
    }

    static func deriveKeyPair(ikm: [UInt8]) throws -> (privateKey: [UInt8], publicKey: [UInt8]) {
        let prk = labeledExtract(kemSuiteID, salt: [], label: "dkp_prk", ikm: ikm)
        for counter in 0...255 {
            let candidate = labeledExpand(kemSuiteID, prk: prk, label: "candidate", info: [UInt8(counter)], length: 32)
            if candidate.allSatisfy({ $0 == 0 }) { continue }
            if let key = try? P256.KeyAgreement.PrivateKey(rawRepresentation: candidate) {
                return (candidate, Array(key.publicKey.x963Representation))
            }
        }
        throw MLSError.crypto("DeriveKeyPair found no valid scalar")
    }

    static func dh(_ privateKey: P256.KeyAgreement.PrivateKey, _ publicKey: P256.KeyAgreement.PublicKey) throws
        -> [UInt8]
    {
        do {
            let shared = try privateKey.sharedSecretFromKeyAgreement(with: publicKey)
            return shared.withUnsafeBytes { Array($0) }
        } catch {
            throw MLSError.crypto("ECDH failed")
        }
    }

    static func sharedSecret(dh: [UInt8], enc: [UInt8], recipientPublicKey: [UInt8]) -> [UInt8] {
        let prk = labeledExtract(kemSuiteID, salt: [], label: "eae_prk", ikm: dh)
        return labeledExpand(kemSuiteID, prk: prk, label: "shared_secret", info: enc + recipientPublicKey, length: 32)
    }

    static func keySchedule(sharedSecret: [UInt8], info: [UInt8]) -> (key: [UInt8], nonce: [UInt8]) {
        let pskIDHash = labeledExtract(hpkeSuiteID, salt: [], label: "psk_id_hash", ikm: [])
        let infoHash = labeledExtract(hpkeSuiteID, salt: [], label: "info_hash", ikm: info)
        let context = [0x00] + pskIDHash + infoHash
        let secret = labeledExtract(hpkeSuiteID, salt: sharedSecret, label: "secret", ikm: [])
        return (
            labeledExpand(hpkeSuiteID, prk: secret, label: "key", info: context, length: 16),
            labeledExpand(hpkeSuiteID, prk: secret, label: "base_nonce", info: context, length: 12)
        )
    }

    static func publicKey(_ bytes: [UInt8]) throws -> P256.KeyAgreement.PublicKey {
        do { return try P256.KeyAgreement.PublicKey(x963Representation: bytes) } catch {
            throw MLSError.crypto("invalid HPKE public key")
        }
    }

    static func sealBase(recipientPublicKey: [UInt8], info: [UInt8], aad: [UInt8], plaintext: [UInt8]) throws -> (
        kemOutput: [UInt8], ciphertext: [UInt8]
    ) {
        let recipient = try publicKey(recipientPublicKey)
        let ephemeral = P256.KeyAgreement.PrivateKey()
        let enc = Array(ephemeral.publicKey.x963Representation)
        let shared = sharedSecret(dh: try dh(ephemeral, recipient), enc: enc, recipientPublicKey: recipientPublicKey)
        let (key, nonce) = keySchedule(sharedSecret: shared, info: info)
        return (enc, try CipherSuite.aeadSeal(key: key, nonce: nonce, aad: aad, plaintext: plaintext))
    }

    static func openBase(
        recipientPrivateKey: [UInt8], kemOutput: [UInt8], info: [UInt8], aad: [UInt8], ciphertext: [UInt8]
    ) throws -> [UInt8] {
        let privateKey: P256.KeyAgreement.PrivateKey
        do { privateKey = try P256.KeyAgreement.PrivateKey(rawRepresentation: recipientPrivateKey) } catch {
            throw MLSError.crypto("invalid HPKE private key")
        }
        let ephemeral = try publicKey(kemOutput)
        let shared = sharedSecret(
            dh: try dh(privateKey, ephemeral), enc: kemOutput,
            recipientPublicKey: Array(privateKey.publicKey.x963Representation))
        let (key, nonce) = keySchedule(sharedSecret: shared, info: info)
        return try CipherSuite.aeadOpen(key: key, nonce: nonce, aad: aad, ciphertext: ciphertext)
    }
}
