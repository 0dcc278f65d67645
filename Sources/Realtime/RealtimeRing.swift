import Synchronization

/// The one hand-off between the 20 ms tick thread and a network event loop: a fixed-capacity, lock-free,
/// single-producer single-consumer ring of **preallocated slots**.
///
/// The rule for everything that crosses the boundary (see `docs/architecture.md`):
/// - One thread produces, one thread consumes, for the ring's whole life. Which thread is which is the owner's
///   design decision (tick → event loop for sends, event loop → tick for receives); two rings make a duplex link.
/// - Slots are created once, in `init`, and reused in place: `push` fills the next free slot through an `inout`
///   reference and `drain`/`pop` read it the same way. A slot holding a `[UInt8]` with reserved capacity is
///   refilled with `removeAll(keepingCapacity:)` + `append`, so a steady stream of messages allocates nothing.
/// - Neither side ever waits: a full ring refuses the push (counted in `dropped`), an empty ring returns nothing.
///   Size the capacity for the worst burst.
/// - No lock, no allocation (given slots large enough), no syscall on either side.
public final class RealtimeRing<Slot>: @unchecked Sendable {
    // @unchecked: slots are plain memory; SPSC discipline (head/tail acquire-release) gives each slot one owner at a time.

    /// Most slots in flight at once.
    public let capacity: Int
    private let slots: UnsafeMutablePointer<Slot>
    /// Next index to read; written by the consumer only.
    private let head = Atomic<Int>(0)
    /// Next index to write; written by the producer only.
    private let tail = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    /// Creates `capacity` (at least 1) slots, each made once by `makeSlot`.
    public init(capacity: Int, makeSlot: () -> Slot) {
        self.capacity = max(1, capacity)
        slots = .allocate(capacity: self.capacity)
        for i in 0..<self.capacity { (slots + i).initialize(to: makeSlot()) }
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// Producer only. Fills the next free slot in place and publishes it. Returns `false` (and counts a drop)
    /// when the ring is full; `fill` is not called then. If `fill` throws, nothing is published.
    @discardableResult
    @inline(__always)
    public func push(_ fill: (inout Slot) throws -> Void) rethrows -> Bool {
        let t = tail.load(ordering: .relaxed)
        guard t &- head.load(ordering: .acquiring) < capacity else {
            refused.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        try fill(&slots[t % capacity])
        tail.store(t &+ 1, ordering: .releasing)
        return true
    }

    /// Consumer only. Reads the oldest published slot in place and frees it; `nil` when empty.
    @inline(__always)
    public func pop<R>(_ read: (inout Slot) throws -> R) rethrows -> R? {
        let h = head.load(ordering: .relaxed)
        guard h < tail.load(ordering: .acquiring) else { return nil }
        let result = try read(&slots[h % capacity])
        head.store(h &+ 1, ordering: .releasing)
        return result
    }

    /// Consumer only. Visits every slot published so far, oldest first, then frees them all at once.
    /// If `body` throws, the slots visited before it (and the one that threw) are freed. Returns the number visited.
    @discardableResult
    public func drain(_ body: (inout Slot) throws -> Void) rethrows -> Int {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        var k = h
        defer { head.store(k, ordering: .releasing) }
        while k < t {
            let i = k % capacity
            k &+= 1
            try body(&slots[i])
        }
        return k - h
    }

    /// Consumer only. Frees the oldest slots so that at most `count` stay; returns how many were skipped.
    @discardableResult
    public func discard(keepingNewest count: Int) -> Int {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        let skip = max(0, (t - h) - max(0, count))
        if skip > 0 { head.store(h + skip, ordering: .releasing) }
        return skip
    }

    /// Slots published and not yet consumed (exact on either side for its own view; a snapshot elsewhere).
    public var count: Int { tail.load(ordering: .acquiring) &- head.load(ordering: .acquiring) }

    /// Pushes refused because the ring was full.
    public var dropped: Int { refused.load(ordering: .relaxed) }
}

extension RealtimeRing {
    /// A ring of optional values: `push(value)` stores, `pop()` takes the value out (the slot returns to `nil`).
    /// For small values and rare messages (state changes, events); byte payloads use reusable array slots instead.
    public convenience init<Value>(capacity: Int) where Slot == Value? {
        self.init(capacity: capacity, makeSlot: { nil })
    }

    /// Producer only. Stores `value`; `false` (counted) when full.
    @discardableResult
    @inline(__always)
    public func push<Value>(_ value: Value) -> Bool where Slot == Value? {
        push { $0 = value }
    }

    /// Consumer only. The oldest value, or `nil` when empty.
    @inline(__always)
    public func pop<Value>() -> Value? where Slot == Value? {
        pop { $0.take() } ?? nil
    }
}

/// A reusable byte-message slot for `RealtimeRing`: payload bytes (capacity reserved once), a one-byte tag saying
/// what the payload is, and a monotonic timestamp (`MonotonicClock` nanoseconds) saying when it entered the ring.
public struct ByteSlot: Sendable {
    /// The payload; refill with `assign(_:tag:stamp:)` to keep its capacity.
    public var bytes: [UInt8]
    /// What the payload is (the owner's own numbering).
    public var tag: UInt8 = 0
    /// When the payload entered the ring, in monotonic nanoseconds.
    public var stamp: UInt64 = 0

    /// An empty slot with room for `reserving` bytes before it ever allocates again.
    public init(reserving: Int) {
        bytes = []
        bytes.reserveCapacity(reserving)
    }

    /// Replaces the payload, keeping the storage (no allocation while `payload` fits the reserved capacity).
    @inline(__always)
    public mutating func assign(_ payload: UnsafeRawBufferPointer, tag: UInt8, stamp: UInt64) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: payload)
        self.tag = tag
        self.stamp = stamp
    }
}

extension RealtimeRing where Slot == ByteSlot {
    /// A ring of `capacity` byte slots with `slotBytes` reserved in each.
    public convenience init(capacity: Int, slotBytes: Int) {
        self.init(capacity: capacity, makeSlot: { ByteSlot(reserving: slotBytes) })
    }

    /// Producer only. Copies `payload` into the next slot; `false` (counted) when full.
    @discardableResult
    @inline(__always)
    public func push(bytes payload: UnsafeRawBufferPointer, tag: UInt8 = 0, stamp: UInt64) -> Bool {
        push { $0.assign(payload, tag: tag, stamp: stamp) }
    }
}
