/// `ParentNode`.
public struct ParentNode: TLSCodable, Equatable {
    public var encryptionKey: [UInt8]
    public var parentHash: [UInt8]
    public var unmergedLeaves: [UInt32]
    public init(encryptionKey: [UInt8], parentHash: [UInt8], unmergedLeaves: [UInt32]) {
        self.encryptionKey = encryptionKey
        self.parentHash = parentHash
        self.unmergedLeaves = unmergedLeaves
    }
    public func encode(to w: inout TLSWriter) {
        w.opaque(encryptionKey)
        w.opaque(parentHash)
        w.u32Vector(unmergedLeaves)
    }
    public init(from r: inout TLSReader) throws {
        encryptionKey = try r.opaque("parent_node.encryption_key")
        parentHash = try r.opaque("parent_node.parent_hash")
        unmergedLeaves = try r.u32Vector("parent_node.unmerged_leaves")
    }
}

/// A tree `Node`.
public enum TreeNode: TLSCodable, Equatable {
    case leaf(LeafNode)
    case parent(ParentNode)

    public var encryptionKey: [UInt8] {
        switch self {
        case .leaf(let leaf): return leaf.encryptionKey
        case .parent(let parent): return parent.encryptionKey
        }
    }

    public func encode(to w: inout TLSWriter) {
        switch self {
        case .leaf(let leaf):
            w.u8(1)
            leaf.encode(to: &w)
        case .parent(let parent):
            w.u8(2)
            parent.encode(to: &w)
        }
    }

    public init(from r: inout TLSReader) throws {
        switch try r.u8("node_type") {
        case 1: self = .leaf(try LeafNode(from: &r))
        case 2: self = .parent(try ParentNode(from: &r))
        case let value: throw MLSError.invalidValue("node_type \(value)")
        }
    }
}

/// The public ratchet tree: an array of optional nodes, leaves at even indices, width 2^(k+1)−1.
public struct RatchetTree: Equatable {
    public internal(set) var nodes: [TreeNode?]

    /// A one-leaf tree.
    public init(firstLeaf: LeafNode) { nodes = [.leaf(firstLeaf)] }

    /// Decodes the `ratchet_tree` extension body (`optional<Node> ratchet_tree<V>`), padding trailing blanks.
    public init(extensionData: [UInt8]) throws {
        var r = TLSReader(extensionData)
        var decoded: [TreeNode?] = try r.vector("ratchet_tree") { inner in
            var list: [TreeNode?] = []
            while !inner.isAtEnd { list.append(try inner.optional("ratchet_tree node") { try TreeNode(from: &$0) }) }
            return list
        }
        try r.finish()
        guard let last = decoded.last, last != nil else {
            throw MLSError.validation("ratchet tree is empty or ends in a blank node")
        }
        guard decoded.count % 2 == 1 else { throw MLSError.validation("ratchet tree does not end in a leaf") }
        var width = 1
        while width < decoded.count { width = width * 2 + 1 }
        decoded += Array(repeating: nil, count: width - decoded.count)
        for (index, node) in decoded.enumerated() {
            switch node {
            case .leaf where index % 2 == 1: throw MLSError.validation("leaf node at parent position \(index)")
            case .parent where index % 2 == 0: throw MLSError.validation("parent node at leaf position \(index)")
            case .parent(let parent)?:
                if let bad = parent.unmergedLeaves.first(where: { Int($0) >= (width + 1) / 2 }) {
                    throw MLSError.validation("unmerged leaf \(bad) outside the tree at node \(index)")
                }
            default: break
            }
        }
        nodes = decoded
    }

    /// The `ratchet_tree` extension body, without trailing blank nodes.
    public var extensionData: [UInt8] {
        var trimmed = nodes
        while let last = trimmed.last, last == nil { trimmed.removeLast() }
        var w = TLSWriter()
        w.vector { inner in
            for node in trimmed {
                if let node {
                    inner.u8(1)
                    node.encode(to: &inner)
                } else {
                    inner.u8(0)
                }
            }
        }
        return w.bytes
    }

    public var leafCount: UInt32 { UInt32((nodes.count + 1) / 2) }
    var root: UInt32 { TreeMath.root(leafCount) }

    /// The leaf at `leafIndex`, nil when blank or out of range.
    public func leaf(_ leafIndex: UInt32) -> LeafNode? {
        let index = Int(leafIndex) * 2
        guard index < nodes.count, case .leaf(let leaf)? = nodes[index] else { return nil }
        return leaf
    }

    func parentNode(_ node: UInt32) -> ParentNode? {
        guard Int(node) < nodes.count, case .parent(let parent)? = nodes[Int(node)] else { return nil }
        return parent
    }

    func node(_ index: UInt32) -> TreeNode? { Int(index) < nodes.count ? nodes[Int(index)] : nil }

    /// Indices of non-blank leaves with their nodes.
    public var occupiedLeaves: [(index: UInt32, leaf: LeafNode)] {
        (0..<leafCount).compactMap { i in leaf(i).map { (i, $0) } }
    }

    mutating func setNode(_ index: UInt32, _ node: TreeNode?) { nodes[Int(index)] = node }

    mutating func setLeaf(_ leafIndex: UInt32, _ leaf: LeafNode?) { nodes[Int(leafIndex) * 2] = leaf.map { .leaf($0) } }

    /// Adds a leaf at the leftmost blank position (extending the tree if full) and marks it unmerged on its direct path.
    @discardableResult
    public mutating func addLeaf(_ leafNode: LeafNode) -> UInt32 {
        var leafIndex = (0..<leafCount).first { leaf($0) == nil }
        if leafIndex == nil {
            leafIndex = leafCount
            nodes += Array(repeating: nil, count: nodes.count + 1)
        }
        let index = leafIndex ?? 0
        setLeaf(index, leafNode)
        for node in TreeMath.directPath(index * 2, leaves: leafCount) {
            if var parent = parentNode(node) {
                parent.unmergedLeaves.append(index)
                nodes[Int(node)] = .parent(parent)
            }
        }
        return index
    }

    /// Blanks a leaf and its direct path, then truncates the tree.
    public mutating func removeLeaf(_ leafIndex: UInt32) throws {
        guard leaf(leafIndex) != nil else { throw MLSError.validation("remove of blank or missing leaf \(leafIndex)") }
        setLeaf(leafIndex, nil)
        for node in TreeMath.directPath(leafIndex * 2, leaves: leafCount) { nodes[Int(node)] = nil }
        truncate()
    }

    /// Halves the tree while its right half is entirely blank.
    mutating func truncate() {
        while nodes.count > 1 {
            let half = (nodes.count + 1) / 2
            guard nodes[half...].allSatisfy({ $0 == nil }) else { return }
            nodes.removeLast(half)
        }
    }

    /// Blanks every node on the direct path of a leaf.
    mutating func blankDirectPath(_ leafIndex: UInt32) {
        for node in TreeMath.directPath(leafIndex * 2, leaves: leafCount) { nodes[Int(node)] = nil }
    }

    /// The resolution of a node (RFC 9420 §4.1.1), as node indices.
    public func resolution(_ index: UInt32) -> [UInt32] {
        switch node(index) {
        case .leaf?: return [index]
        case .parent(let parent)?: return [index] + parent.unmergedLeaves.map { $0 * 2 }
        case nil:
            guard let left = TreeMath.left(index), let right = TreeMath.right(index) else { return [] }
            return resolution(left) + resolution(right)
        }
    }

    /// The child of `ancestor` on the path towards `node`.
    static func childTowards(_ node: UInt32, from ancestor: UInt32) -> UInt32? {
        guard let left = TreeMath.left(ancestor), let right = TreeMath.right(ancestor) else { return nil }
        return TreeMath.isInSubtree(node, of: left) ? left : right
    }

    /// The filtered direct path of a leaf: ancestors whose copath child has a non-empty resolution.
    public func filteredDirectPath(_ leafIndex: UInt32) -> [UInt32] {
        let start = leafIndex * 2
        return TreeMath.directPath(start, leaves: leafCount).filter { ancestor in
            guard let child = RatchetTree.childTowards(start, from: ancestor),
                let sibling = TreeMath.sibling(child, leaves: leafCount)
            else { return false }
            return !resolution(sibling).isEmpty
        }
    }
}
