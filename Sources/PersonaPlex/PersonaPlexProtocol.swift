/// Wire constants of the PersonaPlex chat socket, and how this module uses them.
///
/// Protocol: `GET ws[s]://HOST:8998/api/chat?text_prompt=…&voice_prompt=NATF0.pt` upgrades to a WebSocket.
/// Every message is binary: one kind byte, then the payload. The server sends `0x00` (handshake, any length)
/// when its prompts are processed, then `0x01` + one Ogg page (24 kHz mono Opus, 80 ms) and `0x02` + one
/// UTF-8 text piece. It accepts only `0x01` + Ogg Opus bytes, and discards anything that arrives before
/// `0x00` — including the OpusHead page, which kills its Ogg reader. Hence the client's gate: nothing is
/// sent before `0x00`.
///
/// Using the client from a 20 ms audio graph:
/// ```
/// let client = PersonaPlexClient(configuration: config, logger: log, onStateChange: post)
/// _ = client.startConnecting()                 // or: try await client.connect()
/// // every tick, on the audio thread:
/// client.send(audio: oggPage)                  // .notLive until 0x00; never blocks
/// client.drainReceived { kind, bytes, at in … }  // from the inbox ring: no copy, no lock
/// client.drainSendTimings(into: &timings)      // requested → written-to-socket, for p50/p99
/// client.drainStateChanges { state in … }      // every state change, in order
/// // at the end:
/// await client.close()                         // close frame, then the socket
/// ```
/// Latency: `PersonaPlexSendTiming.queueDelayNanos` is the time a page spent in the client before NIO wrote it
/// to the socket; `PersonaPlexMessage.receivedAtNanos` is when a message was decoded right after the socket
/// read. Both use the client's `Realtime.MonotonicClock`, so the graph can stamp its own side with the same clock.
public enum PersonaPlexProtocol {
    /// Message kind bytes.
    public enum Kind {
        /// Server → client, once: prompts processed, the session is live.
        public static let handshake: UInt8 = 0x00
        /// Both ways: Ogg Opus bytes.
        public static let audio: UInt8 = 0x01
        /// Server → client: one UTF-8 text piece.
        public static let text: UInt8 = 0x02
    }

    /// The 18 stock voices, the web UI's prompt cap and the default port, for callers building menus.
    public static let stockVoices = PersonaPlexVoices.stock
    /// Maximum text prompt length, in characters.
    public static let textPromptLimit = PersonaPlexConfiguration.textPromptLimit
    /// PersonaPlex's default port.
    public static let defaultPort = PersonaPlexEndpoint.defaultPort
}
