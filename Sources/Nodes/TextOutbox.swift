import Realtime
import Synchronization

/// Sentences on their way from the graph (TextRelay with `sink: chat`) to a chat channel: a `RealtimeRing` of
/// UTF-8 sentences, one per preallocated slot. The tick thread posts; the host (the bot's chat sender) drains.
/// A full outbox refuses the sentence and counts it; a sentence longer than a slot is cut at a character boundary.
public final class TextOutbox: Sendable {
    /// Largest sentence kept, in UTF-8 bytes.
    public let slotBytes: Int
    private let ring: RealtimeRing<ByteSlot>
    private let cut = Atomic<Int>(0)

    /// - Parameters:
    ///   - capacity: sentences waiting at once (default 64).
    ///   - slotBytes: bytes per sentence (default 2 KiB; longer ones are cut).
    public init(capacity: Int = 64, slotBytes: Int = 2_048) {
        self.slotBytes = max(4, slotBytes)
        ring = RealtimeRing(capacity: capacity, slotBytes: self.slotBytes)
    }

    /// Tick thread (the one producer): queues one sentence; `false` when the outbox is full (counted in `dropped`).
    @discardableResult
    public func post(_ sentence: String, stamp: UInt64 = 0) -> Bool {
        var text = sentence
        return text.withUTF8 { bytes in
            let length = Self.boundary(in: bytes, atMost: slotBytes)
            if length < bytes.count { cut.wrappingAdd(1, ordering: .relaxed) }
            return ring.push(
                bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[0..<length]),
                stamp: stamp)
        }
    }

    /// The host (the one consumer): hands every waiting sentence to `body`, oldest first; returns how many.
    @discardableResult
    public func drain(_ body: (String) -> Void) -> Int {
        ring.drain { slot in body(String(decoding: slot.bytes, as: UTF8.self)) }
    }

    /// Sentences refused because the outbox was full.
    public var dropped: Int { ring.dropped }
    /// Sentences cut to fit a slot.
    public var truncated: Int { cut.load(ordering: .relaxed) }
    /// Sentences waiting.
    public var count: Int { ring.count }

    /// The longest prefix of `bytes` of at most `limit` bytes that ends on a character boundary (never inside a
    /// multi-byte UTF-8 sequence).
    static func boundary(in bytes: UnsafeBufferPointer<UInt8>, atMost limit: Int) -> Int {
        guard bytes.count > limit else { return bytes.count }
        var end = limit
        // Continuation bytes are 10xxxxxx: back up to the lead byte of the cut character.
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return end
    }
}
