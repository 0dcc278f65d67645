/// The secrets of one epoch (RFC 9420 §8).
public struct EpochSecrets: Equatable {
    public let joinerSecret: [UInt8]
    public let welcomeSecret: [UInt8]
    public let epochSecret: [UInt8]
    public let senderDataSecret: [UInt8]
    public let encryptionSecret: [UInt8]
    public let exporterSecret: [UInt8]
    public let externalSecret: [UInt8]
    public let confirmationKey: [UInt8]
    public let membershipKey: [UInt8]
    public let resumptionPSK: [UInt8]
    public let epochAuthenticator: [UInt8]
    public let initSecret: [UInt8]

    /// `joiner_secret = ExpandWithLabel(Extract(init_secret, commit_secret), "joiner", GroupContext, Nh)`.
    public static func joinerSecret(initSecret: [UInt8], commitSecret: [UInt8], groupContext: GroupContext) -> [UInt8] {
        CipherSuite.labelledExpand(
            CipherSuite.extract(salt: initSecret, ikm: commitSecret), "joiner", groupContext.tlsEncoded,
            CipherSuite.hashLength)
    }

    /// `welcome_secret` from a joiner secret (no PSKs unless `pskSecret` is given).
    public static func welcomeSecret(joinerSecret: [UInt8], pskSecret: [UInt8]? = nil) -> [UInt8] {
        let member = CipherSuite.extract(salt: joinerSecret, ikm: pskSecret ?? zeroSecret)
        return CipherSuite.deriveSecret(member, "welcome")
    }

    static var zeroSecret: [UInt8] { [UInt8](repeating: 0, count: CipherSuite.hashLength) }

    /// Derives every epoch secret from the joiner secret and the new epoch's GroupContext.
    public init(joinerSecret: [UInt8], pskSecret: [UInt8]? = nil, groupContext: GroupContext) {
        self.joinerSecret = joinerSecret
        let member = CipherSuite.extract(salt: joinerSecret, ikm: pskSecret ?? EpochSecrets.zeroSecret)
        welcomeSecret = CipherSuite.deriveSecret(member, "welcome")
        epochSecret = CipherSuite.labelledExpand(member, "epoch", groupContext.tlsEncoded, CipherSuite.hashLength)
        senderDataSecret = CipherSuite.deriveSecret(epochSecret, "sender data")
        encryptionSecret = CipherSuite.deriveSecret(epochSecret, "encryption")
        exporterSecret = CipherSuite.deriveSecret(epochSecret, "exporter")
        externalSecret = CipherSuite.deriveSecret(epochSecret, "external")
        confirmationKey = CipherSuite.deriveSecret(epochSecret, "confirm")
        membershipKey = CipherSuite.deriveSecret(epochSecret, "membership")
        resumptionPSK = CipherSuite.deriveSecret(epochSecret, "resumption")
        epochAuthenticator = CipherSuite.deriveSecret(epochSecret, "authentication")
        initSecret = CipherSuite.deriveSecret(epochSecret, "init")
    }

    /// Advances from the previous epoch's `init_secret` with a commit secret.
    public init(
        initSecret previousInit: [UInt8], commitSecret: [UInt8], pskSecret: [UInt8]? = nil, groupContext: GroupContext
    ) {
        self.init(
            joinerSecret: EpochSecrets.joinerSecret(
                initSecret: previousInit, commitSecret: commitSecret, groupContext: groupContext),
            pskSecret: pskSecret, groupContext: groupContext)
    }

    /// `MLS-Exporter(label, context, length)`.
    /// - Throws: `MLSError.invalidValue` when `length` is outside `0...CipherSuite.maxExpandLength`.
    public func exporter(label: [UInt8], context: [UInt8], length: Int) throws -> [UInt8] {
        try CipherSuite.expandWithLabel(
            CipherSuite.deriveSecret(exporterSecret, label), "exported", CipherSuite.hash(context), length)
    }

    /// The HPKE public key derived from `external_secret` (for `external_pub`).
    public func externalPublicKey() throws -> [UInt8] { try CipherSuite.deriveKeyPair(externalSecret).publicKey }

    /// `confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash)`.
    public func confirmationTag(confirmedTranscriptHash: [UInt8]) -> [UInt8] {
        CipherSuite.mac(key: confirmationKey, data: confirmedTranscriptHash)
    }

    /// Welcome AEAD key and nonce.
    static func welcomeKeyAndNonce(welcomeSecret: [UInt8]) -> (key: [UInt8], nonce: [UInt8]) {
        (
            CipherSuite.labelledExpand(welcomeSecret, "key", [], CipherSuite.aeadKeyLength),
            CipherSuite.labelledExpand(welcomeSecret, "nonce", [], CipherSuite.aeadNonceLength)
        )
    }
}

/// Transcript hash updates (RFC 9420 §8.2).
public enum TranscriptHash {
    /// `confirmed = Hash(interim_before ‖ ConfirmedTranscriptHashInput)`.
    public static func confirmed(interimBefore: [UInt8], content: AuthenticatedContent) -> [UInt8] {
        CipherSuite.hash(interimBefore + content.confirmedTranscriptHashInput)
    }

    /// `interim = Hash(confirmed ‖ InterimTranscriptHashInput(confirmation_tag))`.
    public static func interim(confirmed: [UInt8], confirmationTag: [UInt8]) -> [UInt8] {
        var w = TLSWriter()
        w.opaque(confirmationTag)
        return CipherSuite.hash(confirmed + w.bytes)
    }
}

/// `psk_secret` for external pre-shared keys (RFC 9420 §8.4). Only used for conformance with the
/// passive-client vectors; DAVE never uses PSKs.
public enum PSKSecret {
    /// Combines `(id, psk)` pairs in order; an empty list yields the all-zero secret.
    public static func compute(_ psks: [(id: PreSharedKeyID, psk: [UInt8])]) -> [UInt8] {
        var secret = EpochSecrets.zeroSecret
        for (index, entry) in psks.enumerated() {
            let extracted = CipherSuite.extract(salt: EpochSecrets.zeroSecret, ikm: entry.psk)
            var label = TLSWriter()
            entry.id.encode(to: &label)
            label.u16(UInt16(index))
            label.u16(UInt16(psks.count))
            let input = CipherSuite.labelledExpand(extracted, "derived psk", label.bytes, CipherSuite.hashLength)
            secret = CipherSuite.extract(salt: input, ikm: secret)
        }
        return secret
    }
}
