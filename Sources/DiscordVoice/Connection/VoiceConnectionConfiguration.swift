import NIOSSL
import Realtime

/// Settings of a `VoiceConnection`.
public struct VoiceConnectionConfiguration: Sendable {
    /// `wss` (default) or plain `ws` for the loopback simulator (`DISCORD_VOICE_SCHEME=ws`).
    public var secure: Bool
    /// TLS settings for `wss` (system roots by default; tests may add a CA).
    public var tls: TLSConfiguration
    /// How long a speaker may send nothing before being reported silent.
    public var livenessTimeout: UInt64 = 250 * Nanoseconds.perMillisecond
    /// UDP keepalive period (discord.md §4).
    public var keepaliveInterval: UInt64 = 5 * Nanoseconds.perSecond
    /// Resumes in a row (without reaching Resumed/Ready) before a full rejoin is tried instead.
    public var maximumResumes = 5
    /// Full rejoins in a row (without reaching Session Description) before giving up.
    public var maximumRejoins = 3
    /// Self-mute / self-deaf sent with a rejoin's op 4.
    public var selfMute = false
    public var selfDeaf = false
    /// Frames queued before a talkspurt starts (see `VoiceSendPacer.prefill`).
    public var sendPrefill = 2

    public init(
        secure: Bool = VoiceEndpoint.secureFromProcessEnvironment,
        tls: TLSConfiguration = .makeClientConfiguration()
    ) {
        self.secure = secure
        self.tls = tls
    }
}
