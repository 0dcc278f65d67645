import Synchronization

/// A fixed-capacity single-producer single-consumer queue without locks: one thread pushes (e.g. a network event
/// loop), one thread pops (the session's audio thread). Storage is allocated once; push and pop never allocate
/// (beyond what copying an `Element` costs) and never wait.
///
/// Overflow policy: a full queue drops the newest item (the one being pushed) and counts it in `dropped`.
/// Dropping the oldest instead would need the producer to take the consumer's slot, which a lock-free SPSC
/// queue cannot do safely for non-trivial elements; size the capacity for the worst burst instead.
public final class BoundedQueue<Element>: @unchecked Sendable {
    /// Most items held at once.
    public let capacity: Int
    private let slots: UnsafeMutablePointer<Element?>
    private let head = Atomic<Int>(0)  // next slot to read; written by the consumer only
    private let tail = Atomic<Int>(0)  // next slot to write; written by the producer only
    private let droppedItems = Atomic<Int>(0)

    /// - Parameter capacity: at least 1.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        slots = .allocate(capacity: self.capacity)
        slots.initialize(repeating: nil, count: self.capacity)
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// Producer thread only. Returns false (and counts a drop) when the queue is full.
    @discardableResult
    public func push(_ element: Element) -> Bool {
        let t = tail.load(ordering: .relaxed)
        guard t - head.load(ordering: .acquiring) < capacity else {
            droppedItems.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        slots[t % capacity] = element
        tail.store(t + 1, ordering: .releasing)
        return true
    }

    /// Consumer thread only. The oldest item, or nil when empty.
    public func pop() -> Element? {
        let h = head.load(ordering: .relaxed)
        guard h < tail.load(ordering: .acquiring) else { return nil }
        let element = slots[h % capacity]
        slots[h % capacity] = nil
        head.store(h + 1, ordering: .releasing)
        return element
    }

    /// Items pushed and not yet popped (a snapshot; exact on either thread for its own side).
    public var count: Int { tail.load(ordering: .acquiring) - head.load(ordering: .acquiring) }

    /// Items refused because the queue was full.
    public var dropped: Int { droppedItems.load(ordering: .relaxed) }
}

/// Timestamps waiting for the sample they belong to, on one thread: `(position, stamp)` pairs in position order in a
/// fixed ring. Used to measure "data arrived → first output that contains it" across a node's buffer.
public struct LatencyStampRing {
    private var positions: [Int]
    private var stamps: [Int64]
    private var start = 0
    /// Pairs held.
    public private(set) var count = 0
    /// Pairs refused because the ring was full.
    public private(set) var overflows = 0

    public init(capacity: Int) {
        positions = [Int](repeating: 0, count: max(1, capacity))
        stamps = [Int64](repeating: 0, count: max(1, capacity))
    }

    /// Adds a stamp for the item starting at `position` (positions must not decrease).
    public mutating func push(position: Int, stamp: Int64) {
        guard count < positions.count else { overflows += 1; return }
        let i = (start + count) % positions.count
        positions[i] = position
        stamps[i] = stamp
        count += 1
    }

    /// Removes every pair whose position is below `end`, passing each stamp to `body`.
    public mutating func popAll(before end: Int, _ body: (Int64) -> Void) {
        while count > 0 && positions[start] < end {
            body(stamps[start])
            start = (start + 1) % positions.count
            count -= 1
        }
    }
}
