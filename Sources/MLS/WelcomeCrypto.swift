/// Encryption and decryption of Welcome messages (RFC 9420 §12.4.3).
extension Welcome {
    /// Builds a Welcome: GroupInfo encrypted under the welcome secret, GroupSecrets to each new member's init key.
    /// `pathSecrets` maps a new member's KeyPackageRef to the path secret it should receive (if any).
    static func create(
        groupInfo: GroupInfo, joinerSecret: [UInt8], welcomeSecret: [UInt8],
        newMembers: [KeyPackage], pathSecrets: [[UInt8]: [UInt8]]
    ) throws -> Welcome {
        let (key, nonce) = EpochSecrets.welcomeKeyAndNonce(welcomeSecret: welcomeSecret)
        let encryptedGroupInfo = try CipherSuite.aeadSeal(
            key: key, nonce: nonce, aad: [], plaintext: groupInfo.tlsEncoded)
        var secrets: [EncryptedGroupSecrets] = []
        for member in newMembers {
            let ref = member.reference
            let groupSecrets = GroupSecrets(joinerSecret: joinerSecret, pathSecret: pathSecrets[ref])
            let ciphertext = try CipherSuite.encryptWithLabel(
                publicKey: member.initKey, label: "Welcome",
                context: encryptedGroupInfo, plaintext: groupSecrets.tlsEncoded)
            secrets.append(EncryptedGroupSecrets(newMember: ref, encryptedGroupSecrets: ciphertext))
        }
        return Welcome(secrets: secrets, encryptedGroupInfo: encryptedGroupInfo)
    }

    /// Finds the entry for `keyPackage` and decrypts its GroupSecrets with the init private key.
    public func decryptGroupSecrets(keyPackage: KeyPackage, initPrivateKey: [UInt8]) throws -> GroupSecrets {
        guard cipherSuite == CipherSuite.id else { throw MLSError.unsupported("welcome cipher suite \(cipherSuite)") }
        let ref = keyPackage.reference
        guard let entry = secrets.first(where: { $0.newMember == ref }) else {
            throw MLSError.validation("welcome has no entry for our key package")
        }
        let plaintext = try CipherSuite.decryptWithLabel(
            privateKey: initPrivateKey, label: "Welcome", context: encryptedGroupInfo,
            kemOutput: entry.encryptedGroupSecrets.kemOutput,
            ciphertext: entry.encryptedGroupSecrets.ciphertext)
        return try GroupSecrets(tlsEncoded: plaintext)
    }

    /// Decrypts the GroupInfo with the welcome secret derived from `joinerSecret`.
    public func decryptGroupInfo(joinerSecret: [UInt8], pskSecret: [UInt8]? = nil) throws -> GroupInfo {
        let welcomeSecret = EpochSecrets.welcomeSecret(joinerSecret: joinerSecret, pskSecret: pskSecret)
        let (key, nonce) = EpochSecrets.welcomeKeyAndNonce(welcomeSecret: welcomeSecret)
        return try GroupInfo(
            tlsEncoded: CipherSuite.aeadOpen(key: key, nonce: nonce, aad: [], ciphertext: encryptedGroupInfo))
    }
}
