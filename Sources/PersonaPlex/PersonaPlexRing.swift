import Synchronization

/// Serialises the rare concurrent callers on one side of a ring (the rings are single-producer single-consumer;
/// the public API allows any thread). Uncontended, it costs one compare-and-exchange and one store.
struct PersonaPlexSideGuard: ~Copyable {
    private let busy = Atomic<Bool>(false)

    @inline(__always)
    borrowing func withExclusive<T>(_ body: () throws -> T) rethrows -> T {
        while !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {}
        defer { busy.store(false, ordering: .releasing) }
        return try body()
    }
}

/// Lock-free single-producer single-consumer ring of byte messages, each with a one-byte tag and a timestamp.
/// Payloads up to `slotBytes` are copied into storage allocated once; a larger one falls back to one heap array.
/// Meant for one pushing and one draining thread, which never block or take a lock; a side guard serialises
/// any further concurrent callers.
final class PersonaPlexPacketRing: @unchecked Sendable {
    private struct Header {
        var count: Int
        var tag: UInt8
        var stamp: UInt64
    }

    let capacity: Int
    let slotBytes: Int
    private let bytes: UnsafeMutableRawPointer
    private let headers: UnsafeMutablePointer<Header>
    private let oversized: UnsafeMutablePointer<[UInt8]?>
    /// Next index to read; written by the consumer only.
    private let head = Atomic<Int>(0)
    /// Next index to write; written by the producer only.
    private let tail = Atomic<Int>(0)
    private let producer = PersonaPlexSideGuard()
    private let consumer = PersonaPlexSideGuard()

    init(capacity: Int, slotBytes: Int) {
        self.capacity = max(1, capacity)
        self.slotBytes = max(16, slotBytes)
        bytes = .allocate(byteCount: self.capacity * self.slotBytes, alignment: 16)
        headers = .allocate(capacity: self.capacity)
        headers.initialize(repeating: Header(count: 0, tag: 0, stamp: 0), count: self.capacity)
        oversized = .allocate(capacity: self.capacity)
        oversized.initialize(repeating: nil, count: self.capacity)
    }

    deinit {
        bytes.deallocate()
        headers.deallocate()
        oversized.deinitialize(count: capacity)
        oversized.deallocate()
    }

    /// Messages waiting (approximate when read by a third thread).
    var count: Int { tail.load(ordering: .acquiring) - head.load(ordering: .acquiring) }

    /// Producer: copies `payload` in; `false` when the ring is full (nothing stored).
    func push(_ payload: UnsafeRawBufferPointer, tag: UInt8 = 0, stamp: UInt64) -> Bool {
        producer.withExclusive { pushExclusive(payload, tag: tag, stamp: stamp) }
    }

    private func pushExclusive(_ payload: UnsafeRawBufferPointer, tag: UInt8, stamp: UInt64) -> Bool {
        let t = tail.load(ordering: .relaxed)
        guard t - head.load(ordering: .acquiring) < capacity else { return false }
        let i = t % capacity
        if payload.count <= slotBytes {
            if payload.count > 0 { (bytes + i * slotBytes).copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
        } else {
            oversized[i] = Array(payload)
        }
        headers[i] = Header(count: payload.count, tag: tag, stamp: stamp)
        tail.store(t + 1, ordering: .releasing)
        return true
    }

    /// Consumer: visits every waiting message, oldest first (the bytes are valid only during the call), then frees
    /// their slots. Returns how many were visited.
    @discardableResult
    func drain(_ body: (UnsafeRawBufferPointer, UInt8, UInt64) throws -> Void) rethrows -> Int {
        try consumer.withExclusive { try drainExclusive(body) }
    }

    private func drainExclusive(_ body: (UnsafeRawBufferPointer, UInt8, UInt64) throws -> Void) rethrows -> Int {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        var k = h
        defer { head.store(k, ordering: .releasing) }
        while k < t {
            let i = k % capacity
            let header = headers[i]
            if header.count <= slotBytes {
                try body(UnsafeRawBufferPointer(start: bytes + i * slotBytes, count: header.count), header.tag, header.stamp)
            } else {
                try oversized[i]!.withUnsafeBytes { try body($0, header.tag, header.stamp) }
                oversized[i] = nil
            }
            k += 1
        }
        return t - h
    }
}

/// Lock-free single-producer single-consumer ring of plain values; `push` returns `false` when full.
final class PersonaPlexValueRing<Element>: @unchecked Sendable {
    let capacity: Int
    private let storage: UnsafeMutablePointer<Element?>
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)
    private let producer = PersonaPlexSideGuard()
    private let consumer = PersonaPlexSideGuard()

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
        storage.initialize(repeating: nil, count: self.capacity)
    }

    deinit {
        storage.deinitialize(count: capacity)
        storage.deallocate()
    }

    /// Producer: stores `value`; `false` when full.
    func push(_ value: Element) -> Bool {
        producer.withExclusive { pushExclusive(value) }
    }

    private func pushExclusive(_ value: Element) -> Bool {
        let t = tail.load(ordering: .relaxed)
        guard t - head.load(ordering: .acquiring) < capacity else { return false }
        storage[t % capacity] = value
        tail.store(t + 1, ordering: .releasing)
        return true
    }

    /// Values waiting (approximate when read by a third thread).
    var count: Int { tail.load(ordering: .acquiring) - head.load(ordering: .acquiring) }

    /// Consumer: visits the newest `limit` waiting values, oldest first, and removes every waiting value.
    func drain(keepingNewest limit: Int = .max, _ body: (Element) -> Void) {
        consumer.withExclusive { drainExclusive(keepingNewest: limit, body) }
    }

    private func drainExclusive(keepingNewest limit: Int, _ body: (Element) -> Void) {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        var k = h
        while t - k > limit {
            storage[k % capacity] = nil
            k += 1
        }
        while k < t {
            body(storage[k % capacity].take()!)
            k += 1
        }
        head.store(t, ordering: .releasing)
    }
}
