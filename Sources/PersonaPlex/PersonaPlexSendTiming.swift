/// One `send(audio:)` call: when it was requested and when NIO reported the bytes written to the socket.
public struct PersonaPlexSendTiming: Sendable, Equatable {
    /// `send(audio:)` entry time, or the caller's origin stamp (`MonotonicClock` nanoseconds).
    public var requestedAtNanos: UInt64
    /// When the page was known to be on the socket (after TLS, if any).
    public var writtenAtNanos: UInt64
    /// Payload bytes (without the kind byte).
    public var bytes: Int

    public init(requestedAtNanos: UInt64, writtenAtNanos: UInt64, bytes: Int) {
        self.requestedAtNanos = requestedAtNanos
        self.writtenAtNanos = writtenAtNanos
        self.bytes = bytes
    }

    /// Time the message spent inside the client before reaching the socket.
    public var queueDelayNanos: UInt64 { writtenAtNanos &- requestedAtNanos }
}
