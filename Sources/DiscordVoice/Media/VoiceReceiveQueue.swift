import Realtime

/// One received Opus frame, as the tick thread reads it: whose it is, its RTP sequence and timestamp (for the
/// jitter buffer) and when its packet arrived (`MonotonicClock` nanoseconds).
public struct VoiceFrameSlot: Sendable {
    public var userID: UInt64 = 0
    public var ssrc: UInt32 = 0
    public var sequence: UInt16 = 0
    public var timestamp: UInt32 = 0
    public var arrival: UInt64 = 0
    /// The Opus frame (transport- and DAVE-decrypted); capacity reserved once.
    public var opus: [UInt8]

    init(reserving bytes: Int) {
        opus = []
        opus.reserveCapacity(bytes)
    }
}

/// Speaker changes, in order with the frames (a separate ring; rare).
public enum VoiceSpeakerEvent: Equatable, Sendable {
    /// The first frame of a talkspurt from `userID` (on `ssrc`, mapped by Speaking op 5) arrived.
    case started(userID: UInt64, ssrc: UInt32)
    /// No packet from `userID` for the liveness timeout: silent (not gone).
    case silent(userID: UInt64)
    /// `userID` left the call (op 13).
    case left(userID: UInt64)
}

/// What the voice connection hands the tick thread: per-speaker Opus frames and speaker events, each through its
/// own `RealtimeRing` (the UDP event loop produces, the tick thread consumes). Nothing here blocks or allocates.
public final class VoiceReceiveQueue: Sendable {
    /// Largest Opus frame kept (RFC 6716's maximum packet is 1275 bytes).
    public static let maximumFrame = 1500

    /// Frames, oldest first. Full ring: new frames are refused and counted (`frames.dropped`).
    public let frames: RealtimeRing<VoiceFrameSlot>
    /// Speaker events.
    public let events: RealtimeRing<VoiceSpeakerEvent?>

    /// - Parameter capacity: frames held (default 256 ≈ 5 s of one speaker, 1 s of five).
    public init(capacity: Int = 256) {
        frames = RealtimeRing(capacity: capacity, makeSlot: { VoiceFrameSlot(reserving: Self.maximumFrame) })
        events = RealtimeRing(capacity: 64)
    }

    /// Tick thread: visits every frame received since the last call.
    @discardableResult
    public func drainFrames(_ body: (inout VoiceFrameSlot) -> Void) -> Int { frames.drain(body) }

    /// Tick thread: the next speaker event.
    public func nextEvent() -> VoiceSpeakerEvent? { events.pop() }

    /// Network side (producer only): copies one decrypted frame into the next slot; `false` when full or too long.
    @discardableResult
    public func push(userID: UInt64, header: RTPHeader, arrival: UInt64, opus: UnsafeRawBufferPointer) -> Bool {
        guard opus.count <= Self.maximumFrame else { return false }
        return frames.push { slot in
            slot.userID = userID
            slot.ssrc = header.ssrc
            slot.sequence = header.sequence
            slot.timestamp = header.timestamp
            slot.arrival = arrival
            slot.opus.removeAll(keepingCapacity: true)
            slot.opus.append(contentsOf: opus)
        }
    }
}

/// What the tick thread hands the paced sender: Opus frames, one per 20 ms, through a `RealtimeRing`.
public final class VoiceSendQueue: Sendable {
    public let frames: RealtimeRing<ByteSlot>

    public init(capacity: Int = 16) {
        frames = RealtimeRing(capacity: capacity, slotBytes: VoiceReceiveQueue.maximumFrame)
    }

    /// Tick thread: queues one 20 ms Opus frame; `false` when the queue is full (counted in `frames.dropped`).
    @discardableResult
    public func send(opus: UnsafeRawBufferPointer, stamp: UInt64) -> Bool {
        guard opus.count <= VoiceReceiveQueue.maximumFrame else { return false }
        return frames.push(bytes: opus, stamp: stamp)
    }
}
