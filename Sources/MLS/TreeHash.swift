/// Tree hashes, parent hashes and tree validation (RFC 9420 §7.8, §7.9).
extension RatchetTree {
    /// The tree hash of the root.
    public var rootHash: [UInt8] { treeHash(root) }

    /// The tree hash of the subtree rooted at `index`.
    public func treeHash(_ index: UInt32) -> [UInt8] { treeHash(index, excluding: []) }

    /// Tree hash with the leaves in `excluded` treated as blank and removed from unmerged-leaf lists.
    func treeHash(_ index: UInt32, excluding excluded: Set<UInt32>) -> [UInt8] {
        var w = TLSWriter()
        if index % 2 == 0 {
            let leafIndex = index / 2
            w.u8(1)
            w.u32(leafIndex)
            if !excluded.contains(leafIndex), let leaf = leaf(leafIndex) {
                w.u8(1)
                leaf.encode(to: &w)
            } else {
                w.u8(0)
            }
        } else {
            w.u8(2)
            if var parent = parentNode(index) {
                parent.unmergedLeaves.removeAll { excluded.contains($0) }
                w.u8(1)
                parent.encode(to: &w)
            } else {
                w.u8(0)
            }
            if let left = TreeMath.left(index), let right = TreeMath.right(index) {
                w.opaque(treeHash(left, excluding: excluded))
                w.opaque(treeHash(right, excluding: excluded))
            }
        }
        return CipherSuite.hash(w.bytes)
    }

    /// `Hash(ParentHashInput)` of parent node `parentIndex` as seen from its child on the side opposite `siblingIndex`.
    func parentHash(of parentIndex: UInt32, sibling siblingIndex: UInt32) -> [UInt8]? {
        guard let parent = parentNode(parentIndex) else { return nil }
        var w = TLSWriter()
        w.opaque(parent.encryptionKey)
        w.opaque(parent.parentHash)
        w.opaque(treeHash(siblingIndex, excluding: Set(parent.unmergedLeaves)))
        return CipherSuite.hash(w.bytes)
    }

    /// The `parent_hash` value stored in a node (leaf with commit source, or parent node).
    func storedParentHash(_ index: UInt32) -> [UInt8]? {
        switch node(index) {
        case .leaf(let leaf)?: return leaf.parentHash
        case .parent(let parent)?: return parent.parentHash
        case nil: return nil
        }
    }

    /// Whether parent node `index` is parent-hash valid (RFC 9420 §7.9.2).
    func isParentHashValid(_ index: UInt32) -> Bool {
        guard let parent = parentNode(index), let left = TreeMath.left(index), let right = TreeMath.right(index) else {
            return false
        }
        let unmergedNodes = Set(parent.unmergedLeaves.map { $0 * 2 })
        for (child, sibling) in [(left, right), (right, left)] {
            guard let expected = parentHash(of: index, sibling: sibling) else { continue }
            let childResolution = resolution(child)
            let unmergedUnderChild = unmergedNodes.filter { TreeMath.isInSubtree($0, of: child) }
            for descendant in childResolution where storedParentHash(descendant) == expected {
                if Set(childResolution.filter { $0 != descendant }) == unmergedUnderChild { return true }
            }
        }
        return false
    }

    /// Checks every non-blank parent node is parent-hash valid.
    public func verifyParentHashes() throws {
        for index in stride(from: UInt32(1), to: UInt32(nodes.count), by: 2) where parentNode(index) != nil {
            guard isParentHashValid(index) else { throw MLSError.validation("parent hash invalid at node \(index)") }
        }
    }

    /// Full tree validation for an imported tree: structure, unmerged leaves, parent hashes,
    /// leaf signatures (with `groupID`), unique encryption/signature keys.
    public func validate(groupID: [UInt8]) throws {
        try verifyParentHashes()
        var encryptionKeys = Set<[UInt8]>()
        var signatureKeys = Set<[UInt8]>()
        for (index, leaf) in occupiedLeaves {
            guard leaf.verifySignature(groupID: groupID, leafIndex: index) else {
                throw MLSError.validation("leaf \(index) signature invalid")
            }
            try leaf.validateCapabilities()
            guard encryptionKeys.insert(leaf.encryptionKey).inserted else {
                throw MLSError.validation("duplicate encryption key at leaf \(index)")
            }
            guard signatureKeys.insert(leaf.signatureKey).inserted else {
                throw MLSError.validation("duplicate signature key at leaf \(index)")
            }
        }
        for index in stride(from: UInt32(1), to: UInt32(nodes.count), by: 2) {
            guard let parent = parentNode(index) else { continue }
            guard encryptionKeys.insert(parent.encryptionKey).inserted else {
                throw MLSError.validation("duplicate encryption key at node \(index)")
            }
            for leafIndex in parent.unmergedLeaves {
                guard leaf(leafIndex) != nil, TreeMath.isInSubtree(leafIndex * 2, of: index) else {
                    throw MLSError.validation("bad unmerged leaf \(leafIndex) at node \(index)")
                }
                for ancestor in TreeMath.directPath(leafIndex * 2, leaves: leafCount) {
                    if ancestor == index { break }
                    if let below = parentNode(ancestor), !below.unmergedLeaves.contains(leafIndex) {
                        throw MLSError.validation("unmerged leaf \(leafIndex) missing below node \(index)")
                    }
                }
            }
        }
    }

    /// Sets parent hashes along `senderLeaf`'s filtered direct path (top-down) and returns the leaf's parent hash.
    mutating func setParentHashes(senderLeaf: UInt32, filteredPath: [UInt32]) -> [UInt8] {
        let leafNodeIndex = senderLeaf * 2
        var above: [UInt8] = []
        for nodeIndex in filteredPath.reversed() {
            if var parent = parentNode(nodeIndex) {
                parent.parentHash = above
                nodes[Int(nodeIndex)] = .parent(parent)
            }
            let child = RatchetTree.childTowards(leafNodeIndex, from: nodeIndex) ?? nodeIndex
            let sibling = TreeMath.sibling(child, leaves: leafCount) ?? nodeIndex
            above = parentHash(of: nodeIndex, sibling: sibling) ?? []
        }
        return above
    }
}
