import Synchronization

/// The buffer behind one output port. The producing node writes it during its turn in a tick; every linked input
/// (fan-out) reads the same buffer afterwards, read-only. Buffers are allocated once and reused every tick, so the
/// steady-state audio path does not allocate.
public class Lane {
    /// The format this lane carries, fixed at validation time.
    public let format: MediaFormat
    /// `node.port` of the producer, for messages.
    public let label: String
    /// Set by the producer when its stream has ended for good (end of file, link closed). Downstream nodes see it and
    /// finish in turn; a session whose every lane has ended is over.
    public internal(set) var ended = false

    init(format: MediaFormat, label: String) {
        self.format = format
        self.label = label
    }

    /// Clears what was produced in the previous tick. Called by the runtime just before the producer runs.
    func beginTick() {}

    /// Number of items produced this tick (frames, packets, streams, events), for metrics.
    public var itemCount: Int { 0 }

    /// Marks the stream as ended. Producers call this once; nothing more is read after the tick it happens in.
    public func finish() { ended = true }
}

/// One 20 ms PCM frame per tick, Float32 interleaved, or nothing ("no signal this tick").
public final class PCMLane: Lane {
    public let pcmFormat: PCMFormat
    /// The frame storage: exactly `pcmFormat.samplesPerFrame` samples, valid when `isPresent`.
    public let samples: UnsafeMutableBufferPointer<Float>
    public private(set) var isPresent = false

    /// The allocation behind `samples`: each lane's frame starts at its own offset modulo 4 KiB, so a node reading
    /// several lanes and writing one (a mixer) does not hit 4K aliasing between its input and output buffers.
    private let storage: UnsafeMutableBufferPointer<Float>
    private static let staggerCounter = Atomic<Int>(0)

    init(pcm: PCMFormat, label: String) {
        pcmFormat = pcm
        let page = 4096 / MemoryLayout<Float>.stride
        let slot = Self.staggerCounter.wrappingAdd(1, ordering: .relaxed).oldValue % 16
        let offset = slot * 16 + 4  // 64-byte steps within a 4 KiB page, off any page-aligned start
        storage = .allocate(capacity: pcm.samplesPerFrame + page)
        storage.initialize(repeating: 0)
        let aligned = (page - (Int(bitPattern: storage.baseAddress!) / MemoryLayout<Float>.stride) % page) % page
        samples = UnsafeMutableBufferPointer(
            rebasing: storage[(aligned + offset) % page..<(aligned + offset) % page + pcm.samplesPerFrame])
        super.init(format: .pcm(pcm), label: label)
    }

    deinit { storage.deallocate() }

    override func beginTick() { isPresent = false }
    public override var itemCount: Int { isPresent ? 1 : 0 }

    /// Fills the frame through `body` and publishes it for this tick.
    @inline(__always)
    public func write(_ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        try body(samples)
        isPresent = true
    }

    /// Publishes a frame of digital silence.
    public func writeSilence() {
        samples.update(repeating: 0)
        isPresent = true
    }

    /// The frame if one was produced this tick.
    @inline(__always)
    public var frame: UnsafeBufferPointer<Float>? { isPresent ? UnsafeBufferPointer(samples) : nil }
}

/// A keyed set of PCM streams per tick (one per active speaker). Capacity is fixed at creation; a stream beyond it is
/// dropped and counted by the producer.
public final class PCMStreamsLane: Lane {
    public let pcmFormat: PCMFormat
    public let capacity: Int
    private let storage: UnsafeMutableBufferPointer<Float>
    private var ids: [UInt64]
    public private(set) var count = 0

    init(pcm: PCMFormat, capacity: Int, label: String) {
        pcmFormat = pcm
        self.capacity = capacity
        storage = .allocate(capacity: pcm.samplesPerFrame * capacity)
        storage.initialize(repeating: 0)
        ids = [UInt64](repeating: 0, count: capacity)
        super.init(format: MediaFormat(.pcmStreams, pcm: pcm), label: label)
    }

    deinit { storage.deallocate() }

    override func beginTick() { count = 0 }
    public override var itemCount: Int { count }

    /// Adds one stream's frame for this tick; returns false (and writes nothing) when the lane is full.
    @discardableResult
    public func append(id: UInt64, _ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows -> Bool {
        guard count < capacity else { return false }
        let n = pcmFormat.samplesPerFrame
        let slot = UnsafeMutableBufferPointer(rebasing: storage[(count * n)..<((count + 1) * n)])
        try body(slot)
        ids[count] = id
        count += 1
        return true
    }

    /// The stream id at `index` (0 ..< count).
    public func id(at index: Int) -> UInt64 { ids[index] }

    /// The frame at `index` (0 ..< count).
    public func frame(at index: Int) -> UnsafeBufferPointer<Float> {
        let n = pcmFormat.samplesPerFrame
        return UnsafeBufferPointer(rebasing: storage[(index * n)..<((index + 1) * n)])
    }
}

/// Variable-size byte items per tick: Opus packets, Ogg chunks or text pieces. One contiguous slab holds them; it grows
/// only when a tick carries more bytes than any tick before (rare), so the steady state does not allocate.
public final class PacketLane: Lane {
    private var slab: UnsafeMutableRawBufferPointer
    private var ends: [Int]
    private var stamps: [UInt64]
    private var used = 0
    public private(set) var count = 0

    init(format: MediaFormat, label: String, initialBytes: Int = 16 * 1024) {
        slab = .allocate(byteCount: initialBytes, alignment: 16)
        ends = []
        ends.reserveCapacity(64)
        stamps = []
        stamps.reserveCapacity(64)
        super.init(format: format, label: label)
    }

    deinit { slab.deallocate() }

    override func beginTick() {
        used = 0
        count = 0
        ends.removeAll(keepingCapacity: true)
        stamps.removeAll(keepingCapacity: true)
    }

    /// Tags the item appended last with the monotonic time its data originated (a socket read, PCM entering an
    /// encoder; `MonotonicClock` nanoseconds), so a node further down can measure latency across nodes. Unstamped
    /// items read as 0.
    public func stampLast(_ nanoseconds: UInt64) {
        guard count > 0 else { return }
        while stamps.count < count { stamps.append(0) }
        stamps[count - 1] = nanoseconds
    }

    /// The origin time of item `index` set with `stampLast`, or 0.
    public func stamp(at index: Int) -> UInt64 { index < stamps.count ? stamps[index] : 0 }

    public override var itemCount: Int { count }
    /// Total bytes produced this tick.
    public var byteCount: Int { used }

    private func reserve(_ extra: Int) {
        guard used + extra > slab.count else { return }
        var newSize = slab.count * 2
        while newSize < used + extra { newSize *= 2 }
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: newSize, alignment: 16)
        if used > 0 { bigger.baseAddress!.copyMemory(from: slab.baseAddress!, byteCount: used) }
        slab.deallocate()
        slab = bigger
    }

    /// Appends one item by copying `bytes`.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if bytes.count > 0 { (slab.baseAddress! + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        used += bytes.count
        ends.append(used)
        count += 1
    }

    /// Appends one item by copying a byte array.
    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends one item written in place: `body` gets room for `maxBytes` and returns how many it wrote.
    public func append(maxBytes: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows {
        reserve(maxBytes)
        let room = UnsafeMutableRawBufferPointer(rebasing: slab[used..<(used + maxBytes)])
        let written = try body(room)
        precondition(written >= 0 && written <= maxBytes, "wrote \(written) bytes into room for \(maxBytes)")
        used += written
        ends.append(used)
        count += 1
    }

    /// The item at `index` (0 ..< count), valid until the producer's next turn.
    public subscript(index: Int) -> UnsafeRawBufferPointer {
        let start = index == 0 ? 0 : ends[index - 1]
        return UnsafeRawBufferPointer(rebasing: slab[start..<ends[index]])
    }
}

/// Control events. Emitted events become visible to consumers in the next tick (double buffered), so event links may
/// point backwards without forming a cycle.
public final class EventLane: Lane {
    private var pending: [GraphEvent] = []
    /// The events emitted during the previous tick.
    public private(set) var events: [GraphEvent] = []

    init(label: String) {
        pending.reserveCapacity(16)
        events.reserveCapacity(16)
        super.init(format: MediaFormat(.event), label: label)
    }

    /// Called once per tick by the runtime before any node runs.
    func rotate() {
        swap(&pending, &events)
        pending.removeAll(keepingCapacity: true)
    }

    public override var itemCount: Int { events.count }

    /// Emits an event; consumers see it in the next tick.
    public func emit(_ event: GraphEvent) { pending.append(event) }
}
