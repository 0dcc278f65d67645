import DiscordVoice

/// How the simulated voice server behaves, including what real Discord sends and injected faults.
/// Rates are probabilities per relayed packet (0 = never).
public struct SimulatedVoiceOptions: Sendable {
    /// Modes offered in Ready (default: both; `[.xchacha20Poly1305]` to offer only XChaCha).
    public var modes: [TransportMode] = TransportMode.supported
    /// DAVE protocol version of the call (1; 0 for a plain-Opus call).
    public var daveProtocolVersion: UInt16 = 1
    /// Heartbeat interval sent in Hello.
    public var heartbeatIntervalMilliseconds = 13_750
    /// Real-Discord packet shapes on relayed audio.
    public var extensionRate = 0.0
    public var paddingRate = 0.0
    /// Extra padding-only packets and RTCP receiver reports (per relayed packet).
    public var paddingOnlyRate = 0.0
    public var rtcpRate = 0.0
    /// Faults.
    public var lossRate = 0.0
    public var duplicateRate = 0.0
    /// Packets held back and sent after the next one.
    public var reorderRate = 0.0
    /// Up to this much random delay per packet, in milliseconds.
    public var jitterMilliseconds = 0
    public var garbageRate = 0.0
    public var unknownSSRCRate = 0.0

    public init() {}

    /// Discord-like shapes on every few packets (extensions, padding, padding-only packets, RTCP).
    public static var discordLike: SimulatedVoiceOptions {
        var options = SimulatedVoiceOptions()
        options.extensionRate = 0.3
        options.paddingRate = 0.2
        options.paddingOnlyRate = 0.05
        options.rtcpRate = 0.05
        return options
    }
}
