/// One message received from the server after the handshake, as handed to `onMessage` or `drainReceived(into:)`:
/// the payload is copied into a fresh array (one allocation per message; `drainReceived(_:)` avoids it).
public struct PersonaPlexMessage: Sendable {
    /// The message kinds PersonaPlex sends after `0x00`.
    public enum Kind: UInt8, Sendable {
        /// `0x01`: exactly one Ogg page (24 kHz mono Opus).
        case audio = 1
        /// `0x02`: one UTF-8 text piece (word-initial pieces start with a space).
        case text = 2
    }

    /// What the payload is.
    public var kind: Kind
    /// The payload without the kind byte: an Ogg page or UTF-8 text.
    public var payload: [UInt8]
    /// When the frame was decoded on the event loop, right after the socket read (`MonotonicClock` nanoseconds).
    public var receivedAtNanos: UInt64

    public init(kind: Kind, payload: [UInt8], receivedAtNanos: UInt64) {
        self.kind = kind
        self.payload = payload
        self.receivedAtNanos = receivedAtNanos
    }

    /// The text of a `.text` message (invalid UTF-8 repaired), `nil` for audio.
    public var text: String? { kind == .text ? String(decoding: payload, as: UTF8.self) : nil }
}
