/// Fixed-capacity ring buffer of interleaved Float samples, allocated once in `init`; useful for
/// re-chunking audio into fixed frames without allocating. Not thread-safe.
public final class SampleFIFO {
    private var storage: UnsafeMutableBufferPointer<Float>
    private var readIndex = 0
    /// Samples currently stored (interleaved count).
    public private(set) var count = 0
    /// Maximum number of samples the FIFO can hold.
    public var capacity: Int { storage.count }

    /// Allocates `capacity` samples up front.
    public init(capacity: Int) {
        storage = .allocate(capacity: max(1, capacity))
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    /// Free space in samples.
    public var freeSpace: Int { storage.count - count }

    /// Appends as many samples as fit; returns how many were stored.
    @discardableResult
    public func write(_ samples: UnsafeBufferPointer<Float>) -> Int {
        let n = min(samples.count, freeSpace)
        guard n > 0, let base = samples.baseAddress else { return 0 }
        var writeIndex = (readIndex + count) % storage.count
        let first = min(n, storage.count - writeIndex)
        (storage.baseAddress! + writeIndex).update(from: base, count: first)
        if n > first { storage.baseAddress!.update(from: base + first, count: n - first) }
        writeIndex = (writeIndex + n) % storage.count
        count += n
        return n
    }

    /// Appends `n` zero samples (or as many as fit); returns how many were stored.
    @discardableResult
    public func writeZeros(_ n: Int) -> Int {
        let n = min(n, freeSpace)
        var index = (readIndex + count) % storage.count
        for _ in 0..<max(0, n) {
            storage[index] = 0
            index += 1
            if index == storage.count { index = 0 }
        }
        count += max(0, n)
        return max(0, n)
    }

    /// Moves up to `output.count` samples into `output`; returns how many were moved.
    @discardableResult
    public func read(into output: UnsafeMutableBufferPointer<Float>) -> Int {
        let n = min(output.count, count)
        guard n > 0, let base = output.baseAddress else { return 0 }
        let first = min(n, storage.count - readIndex)
        base.update(from: storage.baseAddress! + readIndex, count: first)
        if n > first { (base + first).update(from: storage.baseAddress!, count: n - first) }
        readIndex = (readIndex + n) % storage.count
        count -= n
        return n
    }

    /// Drops up to `n` of the oldest samples; returns how many were dropped.
    @discardableResult
    public func discard(_ n: Int) -> Int {
        let n = max(0, min(n, count))
        readIndex = (readIndex + n) % storage.count
        count -= n
        return n
    }

    /// Drops up to `n` of the most recently written samples; returns how many were dropped.
    @discardableResult
    public func discardNewest(_ n: Int) -> Int {
        let n = max(0, min(n, count))
        count -= n
        return n
    }

    /// Empties the FIFO without touching the storage.
    public func removeAll() {
        readIndex = 0
        count = 0
    }
}
