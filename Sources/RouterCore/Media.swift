/// The kinds of data a port can carry. Media kinds move every 20 ms tick; `event` is the separate control lane.
public enum MediaKind: String, CaseIterable, Sendable {
    /// One 20 ms frame of Float32 interleaved PCM per tick (or none, meaning "no signal this tick").
    case pcm
    /// A keyed set of PCM streams per tick (one per speaker); streams appear and disappear at run time.
    case pcmStreams = "pcm-streams"
    /// Opus packets, each one complete packet.
    case opus
    /// An Ogg Opus byte stream, delivered as chunks (usually one Ogg page per chunk).
    case ogg
    /// UTF-8 text pieces.
    case text
    /// Control events (speaker joined/left, link state, stream restart, ...), delivered one tick later.
    case event

    /// True for the kinds whose lanes hold PCM samples (and so need a `PCMFormat`).
    public var carriesPCM: Bool { self == .pcm || self == .pcmStreams }

    /// How the kind reads in messages ("PCM", "Ogg Opus", ...).
    public var displayName: String {
        switch self {
        case .pcm: return "PCM"
        case .pcmStreams: return "per-speaker PCM streams"
        case .opus: return "Opus packets"
        case .ogg: return "Ogg Opus"
        case .text: return "text"
        case .event: return "events"
        }
    }
}

/// Sample rate and channel count of a PCM lane. Frames are always 20 ms.
public struct PCMFormat: Hashable, Sendable, CustomStringConvertible {
    public var sampleRate: Int
    public var channels: Int

    public init(sampleRate: Int, channels: Int) {
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// Samples per channel in one 20 ms frame.
    public var samplesPerChannel: Int { sampleRate / Tick.perSecond }
    /// Interleaved samples in one 20 ms frame.
    public var samplesPerFrame: Int { samplesPerChannel * channels }

    public var channelName: String {
        switch channels {
        case 1: return "mono"
        case 2: return "stereo"
        default: return "\(channels)-channel"
        }
    }

    public var description: String { "\(sampleRate) Hz \(channelName)" }
}

/// The format of a port: its kind and, for PCM kinds, the sample format.
public struct MediaFormat: Hashable, Sendable, CustomStringConvertible {
    public var kind: MediaKind
    public var pcm: PCMFormat?

    public init(_ kind: MediaKind, pcm: PCMFormat? = nil) {
        self.kind = kind
        self.pcm = pcm
    }

    public static func pcm(_ format: PCMFormat) -> MediaFormat { MediaFormat(.pcm, pcm: format) }

    public var description: String {
        if let pcm { return "\(pcm) \(kind.displayName)" }
        return kind.displayName
    }
}

/// The state of a network link (PersonaPlex, Discord voice), as carried on the event lane.
public enum LinkState: Equatable, Sendable, CustomStringConvertible {
    case connecting
    /// Connected; the server has not answered yet (busy with another session, or processing prompts).
    case waiting
    case warmingUp
    case live
    case closed
    case failed(String)

    public var description: String {
        switch self {
        case .connecting: return "connecting"
        case .waiting: return "waiting for the server to be free"
        case .warmingUp: return "warming up"
        case .live: return "live"
        case .closed: return "closed"
        case .failed(let reason): return "failed(\(reason))"
        }
    }
}

/// A control event. Events travel on `event` ports, separate from media, and arrive one tick after they are emitted,
/// which lets control links point backwards in the graph (for example link state back to a greeting).
public enum GraphEvent: Equatable, Sendable, CustomStringConvertible {
    case speakerJoined(id: UInt64)
    case speakerLeft(id: UInt64)
    case linkState(LinkState)
    /// Ask an encoder to start a fresh stream (new BOS page); PersonaPlex needs one per session.
    case streamRestart
    case sessionStarted
    case sessionStopping
    /// A node reports a problem that does not end the session.
    case warning(String)

    public var description: String {
        switch self {
        case .speakerJoined(let id): return "speaker \(id) joined"
        case .speakerLeft(let id): return "speaker \(id) left"
        case .linkState(let state): return "link \(state)"
        case .streamRestart: return "stream restart"
        case .sessionStarted: return "session started"
        case .sessionStopping: return "session stopping"
        case .warning(let text): return "warning: \(text)"
        }
    }
}
