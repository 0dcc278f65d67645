/// An HPKE private key held for a tree node, with its public key for matching.
struct NodeKey: Equatable {
    let privateKey: [UInt8]
    let publicKey: [UInt8]
}

/// The private TreeKEM state of one member: its leaf index and the node keys it knows.
public struct TreePrivateKeys: Equatable {
    public internal(set) var leafIndex: UInt32
    var keys: [UInt32: NodeKey]

    /// Starts with the leaf's encryption private key.
    public init(leafIndex: UInt32, leafEncryptionPrivateKey: [UInt8]) throws {
        self.leafIndex = leafIndex
        self.keys = [
            leafIndex * 2: NodeKey(
                privateKey: leafEncryptionPrivateKey,
                publicKey: try CipherSuite.hpkePublicKey(privateKey: leafEncryptionPrivateKey))
        ]
    }

    /// Installs keys derived from `pathSecret` at `node` and every filtered-direct-path node above it.
    mutating func implant(pathSecret: [UInt8], at node: UInt32, tree: RatchetTree) throws {
        let path = tree.filteredDirectPath(leafIndex)
        guard let start = path.firstIndex(of: node) else {
            throw MLSError.validation("path secret node \(node) not on our filtered direct path")
        }
        var secret = pathSecret
        for nodeIndex in path[start...] {
            let pair = try CipherSuite.nodeKeyPair(pathSecret: secret)
            guard tree.node(nodeIndex)?.encryptionKey == pair.publicKey else {
                throw MLSError.validation("derived key does not match public key at node \(nodeIndex)")
            }
            keys[nodeIndex] = NodeKey(privateKey: pair.privateKey, publicKey: pair.publicKey)
            secret = CipherSuite.deriveSecret(secret, "path")
        }
    }

    /// Drops keys whose node is blank or carries a different public key.
    mutating func prune(to tree: RatchetTree) {
        keys = keys.filter { tree.node($0.key)?.encryptionKey == $0.value.publicKey }
    }

    func key(for node: UInt32) -> NodeKey? { keys[node] }
}

/// The outcome of creating an UpdatePath.
struct CreatedPath {
    let updatePath: UpdatePath
    let commitSecret: [UInt8]
    /// Path secret per filtered-direct-path node (for Welcome path secrets).
    let pathSecrets: [UInt32: [UInt8]]
    let privateKeys: TreePrivateKeys
}

extension RatchetTree {
    /// Creates an UpdatePath for `leafIndex` on this (already proposal-updated) tree and merges it.
    /// `context` maps the merged tree to the provisional GroupContext bytes used for encryption.
    mutating func createUpdatePath(
        leafIndex: UInt32, signaturePrivateKey: [UInt8], groupID: [UInt8],
        excludedLeaves: Set<UInt32>, context: (RatchetTree) -> [UInt8]
    ) throws -> CreatedPath {
        guard var leafNode = leaf(leafIndex) else { throw MLSError.state("committer leaf \(leafIndex) is blank") }
        let path = filteredDirectPath(leafIndex)
        blankDirectPath(leafIndex)

        let leafSecret = CipherSuite.randomBytes(CipherSuite.hashLength)
        let leafPair = try CipherSuite.nodeKeyPair(pathSecret: leafSecret)
        var privateKeys = try TreePrivateKeys(leafIndex: leafIndex, leafEncryptionPrivateKey: leafPair.privateKey)
        var secrets: [[UInt8]] = []
        var secret = CipherSuite.deriveSecret(leafSecret, "path")
        var pathSecrets: [UInt32: [UInt8]] = [:]
        for nodeIndex in path {
            let pair = try CipherSuite.nodeKeyPair(pathSecret: secret)
            setNode(nodeIndex, .parent(ParentNode(encryptionKey: pair.publicKey, parentHash: [], unmergedLeaves: [])))
            privateKeys.keys[nodeIndex] = NodeKey(privateKey: pair.privateKey, publicKey: pair.publicKey)
            pathSecrets[nodeIndex] = secret
            secrets.append(secret)
            secret = CipherSuite.deriveSecret(secret, "path")
        }
        let commitSecret = secret

        let leafParentHash = setParentHashes(senderLeaf: leafIndex, filteredPath: path)
        leafNode.encryptionKey = leafPair.publicKey
        leafNode.source = .commit(parentHash: leafParentHash)
        try leafNode.sign(privateKey: signaturePrivateKey, groupID: groupID, leafIndex: leafIndex)
        setLeaf(leafIndex, leafNode)

        let contextBytes = context(self)
        var pathNodes: [UpdatePathNode] = []
        for (position, nodeIndex) in path.enumerated() {
            let copathChild = try copathChild(of: nodeIndex, towards: leafIndex)
            var ciphertexts: [HPKECiphertext] = []
            for target in resolution(copathChild) where !(target % 2 == 0 && excludedLeaves.contains(target / 2)) {
                guard let key = node(target)?.encryptionKey else { continue }
                ciphertexts.append(
                    try CipherSuite.encryptWithLabel(
                        publicKey: key, label: "UpdatePathNode",
                        context: contextBytes, plaintext: secrets[position]))
            }
            pathNodes.append(
                UpdatePathNode(encryptionKey: node(nodeIndex)?.encryptionKey ?? [], encryptedPathSecret: ciphertexts))
        }
        return CreatedPath(
            updatePath: UpdatePath(leafNode: leafNode, nodes: pathNodes), commitSecret: commitSecret,
            pathSecrets: pathSecrets, privateKeys: privateKeys)
    }

    func copathChild(of ancestor: UInt32, towards leafIndex: UInt32) throws -> UInt32 {
        guard let left = TreeMath.left(ancestor), let right = TreeMath.right(ancestor) else {
            throw MLSError.validation("node \(ancestor) has no children")
        }
        return TreeMath.isInSubtree(leafIndex * 2, of: left) ? right : left
    }

    /// Merges another member's UpdatePath into this (already proposal-updated) tree: checks the leaf
    /// and the parent-hash chain, replaces the sender's direct path. Returns the filtered direct path used.
    mutating func mergeUpdatePath(sender: UInt32, path: UpdatePath, groupID: [UInt8]) throws -> [UInt32] {
        guard leaf(sender) != nil else { throw MLSError.validation("update path sender \(sender) is blank") }
        let filtered = filteredDirectPath(sender)
        guard filtered.count == path.nodes.count else {
            throw MLSError.validation(
                "update path has \(path.nodes.count) nodes, filtered direct path has \(filtered.count)")
        }
        guard case .commit(let claimedParentHash) = path.leafNode.source else {
            throw MLSError.validation("update path leaf source is not commit")
        }
        guard path.leafNode.verifySignature(groupID: groupID, leafIndex: sender) else {
            throw MLSError.validation("update path leaf signature invalid")
        }
        try path.leafNode.validateCapabilities()
        var seenKeys = Set<[UInt8]>()
        for (index, node) in nodes.enumerated() where index != Int(sender) * 2 {
            if let node, !TreeMath.directPath(sender * 2, leaves: leafCount).contains(UInt32(index)) {
                seenKeys.insert(node.encryptionKey)
            }
        }
        for key in [path.leafNode.encryptionKey] + path.nodes.map(\.encryptionKey) {
            guard seenKeys.insert(key).inserted else {
                throw MLSError.validation("update path reuses an encryption key")
            }
        }
        blankDirectPath(sender)
        for (nodeIndex, pathNode) in zip(filtered, path.nodes) {
            setNode(
                nodeIndex,
                .parent(ParentNode(encryptionKey: pathNode.encryptionKey, parentHash: [], unmergedLeaves: [])))
        }
        let computed = setParentHashes(senderLeaf: sender, filteredPath: filtered)
        guard computed == claimedParentHash else { throw MLSError.validation("update path leaf parent hash mismatch") }
        setLeaf(sender, path.leafNode)
        return filtered
    }

    /// Decrypts the path secret addressed to `keys` in a merged UpdatePath and derives the commit secret,
    /// updating `keys` with the new node keys. Returns (path secret at the common ancestor, commit secret).
    func decryptUpdatePath(
        sender: UInt32, path: UpdatePath, filteredPath: [UInt32], excludedLeaves: Set<UInt32>,
        context: [UInt8], keys: inout TreePrivateKeys
    ) throws -> (pathSecret: [UInt8], commitSecret: [UInt8]) {
        let ourNode = keys.leafIndex * 2
        guard let position = filteredPath.firstIndex(where: { TreeMath.isInSubtree(ourNode, of: $0) }) else {
            throw MLSError.validation("no common ancestor with update path sender")
        }
        let copathChild = try copathChild(of: filteredPath[position], towards: sender)
        let targets = resolution(copathChild).filter { !($0 % 2 == 0 && excludedLeaves.contains($0 / 2)) }
        let ciphertexts = path.nodes[position].encryptedPathSecret
        guard ciphertexts.count == targets.count else {
            throw MLSError.validation(
                "update path node has \(ciphertexts.count) ciphertexts for \(targets.count) resolution nodes")
        }
        guard
            let slot = targets.firstIndex(where: { target in
                keys.key(for: target).map { $0.publicKey == node(target)?.encryptionKey } ?? false
            }),
            let key = keys.key(for: targets[slot])
        else {
            throw MLSError.state("no private key for the update path resolution")
        }
        let pathSecret = try CipherSuite.decryptWithLabel(
            privateKey: key.privateKey, label: "UpdatePathNode", context: context,
            kemOutput: ciphertexts[slot].kemOutput, ciphertext: ciphertexts[slot].ciphertext)
        var secret = pathSecret
        for nodeIndex in filteredPath[position...] {
            let pair = try CipherSuite.nodeKeyPair(pathSecret: secret)
            guard node(nodeIndex)?.encryptionKey == pair.publicKey else {
                throw MLSError.validation("decrypted path secret does not match public key at node \(nodeIndex)")
            }
            keys.keys[nodeIndex] = NodeKey(privateKey: pair.privateKey, publicKey: pair.publicKey)
            secret = CipherSuite.deriveSecret(secret, "path")
        }
        keys.prune(to: self)
        return (pathSecret, secret)
    }
}
