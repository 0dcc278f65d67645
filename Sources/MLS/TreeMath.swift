/// Array-based binary tree arithmetic (RFC 9420 Appendix C). Leaves sit at even node indices.
public enum TreeMath {
    /// Floor of log2(x); 0 for x == 0.
    static func log2(_ x: UInt32) -> UInt32 {
        x == 0 ? 0 : UInt32(31 - x.leadingZeroBitCount)
    }

    /// The level of a node: 0 for leaves, trailing one bits otherwise.
    public static func level(_ x: UInt32) -> UInt32 { UInt32((~x).trailingZeroBitCount) }

    /// Number of nodes in a tree with `leaves` leaves.
    public static func nodeWidth(_ leaves: UInt32) -> UInt32 { leaves == 0 ? 0 : 2 * (leaves - 1) + 1 }

    /// Root node index for a tree with `leaves` leaves.
    public static func root(_ leaves: UInt32) -> UInt32 { (1 << log2(nodeWidth(leaves))) - 1 }

    /// Node index of a leaf index.
    public static func nodeIndex(leaf: UInt32) -> UInt32 { leaf * 2 }

    /// Left child of a parent node; nil for leaves.
    public static func left(_ x: UInt32) -> UInt32? {
        let k = level(x)
        return k == 0 ? nil : x ^ (1 << (k - 1))
    }

    /// Right child of a parent node; nil for leaves.
    public static func right(_ x: UInt32) -> UInt32? {
        let k = level(x)
        return k == 0 ? nil : x ^ (3 << (k - 1))
    }

    /// Parent of `x` in a tree with `leaves` leaves; nil for the root.
    public static func parent(_ x: UInt32, leaves: UInt32) -> UInt32? {
        if x == root(leaves) { return nil }
        let k = level(x)
        let b = (x >> (k + 1)) & 1
        return (x | (1 << k)) ^ (b << (k + 1))
    }

    /// Sibling of `x`; nil for the root.
    public static func sibling(_ x: UInt32, leaves: UInt32) -> UInt32? {
        guard let p = parent(x, leaves: leaves), let l = left(p), let r = right(p) else { return nil }
        return x < p ? r : l
    }

    /// Ancestors of `x` from its parent up to the root.
    public static func directPath(_ x: UInt32, leaves: UInt32) -> [UInt32] {
        var path: [UInt32] = []
        var node = x
        while let p = parent(node, leaves: leaves) {
            path.append(p)
            node = p
        }
        return path
    }

    /// Siblings of `x` and of each of its ancestors below the root.
    public static func copath(_ x: UInt32, leaves: UInt32) -> [UInt32] {
        var nodes = [x] + directPath(x, leaves: leaves)
        nodes.removeLast()
        return nodes.compactMap { sibling($0, leaves: leaves) }
    }

    /// Lowest common ancestor of two nodes.
    public static func commonAncestor(_ x: UInt32, _ y: UInt32) -> UInt32 {
        let lx = level(x) + 1, ly = level(y) + 1
        if lx <= ly, (x >> ly) == (y >> ly) { return y }
        if ly <= lx, (x >> lx) == (y >> lx) { return x }
        var xn = x, yn = y, k: UInt32 = 0
        while xn != yn {
            xn >>= 1
            yn >>= 1
            k += 1
        }
        return (xn << k) + (1 << (k - 1)) - 1
    }

    /// Whether `descendant` lies in the subtree rooted at `ancestor` (inclusive).
    public static func isInSubtree(_ descendant: UInt32, of ancestor: UInt32) -> Bool {
        let span = (UInt32(1) << level(ancestor)) - 1
        return descendant + span >= ancestor && descendant <= ancestor + span
    }
}
