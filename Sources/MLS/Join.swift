extension Group {
    /// Joins a group from a Welcome (bare `Welcome` bytes) using the key package we published.
    /// The ratchet tree comes from the GroupInfo `ratchet_tree` extension unless `ratchetTree` is given.
    public static func join(
        welcome welcomeBytes: [UInt8], keyPackage: KeyPackageBundle, ratchetTree: RatchetTree? = nil
    ) throws -> Group {
        try join(welcome: Welcome(tlsEncoded: welcomeBytes), keyPackage: keyPackage, ratchetTree: ratchetTree)
    }

    /// The psk_secret for a Welcome's PSK list; only external PSKs found in `externalPSKs` (id → key) are supported.
    static func pskSecret(for ids: [PreSharedKeyID], externalPSKs: [[UInt8]: [UInt8]]) throws -> [UInt8]? {
        if ids.isEmpty { return nil }
        let entries: [(id: PreSharedKeyID, psk: [UInt8])] = try ids.map { id in
            guard case .external(let pskID) = id.kind else { throw MLSError.unsupported("resumption pre-shared keys") }
            guard let psk = externalPSKs[pskID] else { throw MLSError.unsupported("unknown external pre-shared key") }
            return (id, psk)
        }
        return PSKSecret.compute(entries)
    }

    /// As `join(welcome:keyPackage:ratchetTree:)` for a decoded Welcome.
    /// `externalPSKs` (PSK id → key) exists for conformance tests only; DAVE Welcomes carry no PSKs.
    public static func join(
        welcome: Welcome, keyPackage: KeyPackageBundle, ratchetTree: RatchetTree? = nil,
        externalPSKs: [[UInt8]: [UInt8]] = [:]
    ) throws -> Group {
        let groupSecrets = try welcome.decryptGroupSecrets(
            keyPackage: keyPackage.keyPackage, initPrivateKey: keyPackage.initPrivateKey)
        let pskSecret = try pskSecret(for: groupSecrets.psks, externalPSKs: externalPSKs)
        let groupInfo = try welcome.decryptGroupInfo(joinerSecret: groupSecrets.joinerSecret, pskSecret: pskSecret)
        let context = groupInfo.groupContext
        guard context.version == mlsVersion10, context.cipherSuite == CipherSuite.id else {
            throw MLSError.unsupported("group version \(context.version) / cipher suite \(context.cipherSuite)")
        }

        let tree: RatchetTree
        if let inline = groupInfo.extensions.first(where: { $0.extensionType == Extension.ratchetTree }) {
            tree = try RatchetTree(extensionData: inline.data)
        } else if let ratchetTree {
            tree = ratchetTree
        } else {
            throw MLSError.validation("welcome carries no ratchet tree")
        }
        guard tree.rootHash == context.treeHash else {
            throw MLSError.validation("ratchet tree hash does not match group context")
        }
        try tree.validate(groupID: context.groupID)

        guard let signerLeaf = tree.leaf(groupInfo.signer) else {
            throw MLSError.validation("group info signer leaf is blank")
        }
        guard groupInfo.verify(signerPublicKey: signerLeaf.signatureKey) else {
            throw MLSError.validation("group info signature invalid")
        }

        guard let ownIndex = tree.occupiedLeaves.first(where: { $0.leaf == keyPackage.keyPackage.leafNode })?.index
        else {
            throw MLSError.validation("our leaf is not in the ratchet tree")
        }
        let secrets = EpochSecrets(joinerSecret: groupSecrets.joinerSecret, pskSecret: pskSecret, groupContext: context)
        guard
            constantTimeEqual(
                secrets.confirmationTag(confirmedTranscriptHash: context.confirmedTranscriptHash),
                groupInfo.confirmationTag)
        else {
            throw MLSError.validation("group info confirmation tag invalid")
        }

        var keys = try TreePrivateKeys(leafIndex: ownIndex, leafEncryptionPrivateKey: keyPackage.encryptionPrivateKey)
        if let pathSecret = groupSecrets.pathSecret {
            let ancestor = TreeMath.commonAncestor(ownIndex * 2, groupInfo.signer * 2)
            try keys.implant(pathSecret: pathSecret, at: ancestor, tree: tree)
        }
        let state = GroupState(
            groupContext: context, tree: tree, privateKeys: keys, secrets: secrets,
            interimTranscriptHash: TranscriptHash.interim(
                confirmed: context.confirmedTranscriptHash,
                confirmationTag: groupInfo.confirmationTag))
        return Group(state: state, signaturePrivateKey: keyPackage.signaturePrivateKey)
    }
}
