import DAVE

/// Where the voice connection is.
public enum VoiceConnectionPhase: Equatable, Sendable {
    /// Waiting for the gateway's voice server info (first join, or after 4014/4022 until the next update).
    case waitingForServer
    /// Voice gateway opening, identifying or resuming.
    case connecting
    /// Ready, IP discovery and Select Protocol under way.
    case negotiating
    /// Session Description received: audio flows.
    case connected
    /// A full rejoin was asked of the main gateway (4006/4009/4011).
    case rejoining
    /// Stopped for good.
    case stopped(VoiceStopReason)
}

/// A snapshot of the connection for logs, metrics and the bot's `privacy` command.
public struct VoiceConnectionStatus: Sendable {
    public var phase: VoiceConnectionPhase
    public var ssrc: UInt32?
    public var mode: TransportMode?
    /// The DAVE protocol version in effect (0 = plain Opus).
    public var daveProtocolVersion: UInt16
    /// The 30-digit voice privacy code, when in a DAVE group.
    public var privacyCode: String?
    public var epoch: UInt64?
    public var receive: VoiceReceiveCounters
    public var send: VoiceSendPacer.Counters
    /// DAVE receive counters per user.
    public var dave: [UInt64: VoiceE2EE.UserCounters]
    /// Times the connection sent op 31 after a run of DAVE failures.
    public var daveSelfHealings: Int
    /// Frames the tick thread had not drained when new ones arrived (receive ring full).
    public var receiveRingDrops: Int
    /// Frames dropped because DAVE had no sender key yet (never sent unencrypted).
    public var unkeyedFrames: Int
    /// Resumes and rejoins so far.
    public var resumes: Int
    public var rejoins: Int
    /// Pacing lateness p99 in nanoseconds (100 µs resolution).
    public var pacingLatenessP99: UInt64
}
