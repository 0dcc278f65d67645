import Codecs
import DiscordVoice
import Realtime
import RouterCore

/// Speaks into the Discord voice channel: encodes each 48 kHz stereo frame with libopus and queues the packet on the
/// voice connection's `VoiceSendQueue`, whose paced sender puts one on the wire every 20 ms. A tick without a frame
/// queues nothing: the sender ends the talk spurt with Discord's silence frames and stops speaking by itself.
public final class DiscordOut: NodeType {
    public static let typeName = "DiscordOut"
    public static let summary = "Sink: encode 48 kHz stereo PCM to Opus and send it into the Discord voice channel."
    private enum Param {
        static let bitrate: ParameterKey<Int> = .int(
            "bitrate", 6_000...510_000, default: 64_000, "Opus bitrate in bits per second.")
        static let complexity: ParameterKey<Int> = .int(
            "complexity", 0...10, default: 10, "Opus encoder complexity 0...10 (10: best quality, most CPU).")
        static let application: ParameterKey<String> = .choice(
            "application", ["voip", "audio", "lowdelay"], default: "audio",
            "libopus profile: audio (music and voice alike), voip (speech model), lowdelay (CELT only).")
    }
    public static let parameters = [Param.bitrate.spec, Param.complexity.spec, Param.application.spec]

    public static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(inputs: [
            InputSpec(
                "in", .pcm, .exact(.discord), doc: "What the channel hears (a tick without a frame: nothing sent).")
        ])
    }

    public static func pacing(_ params: Parameters) -> PacingPreference { .realtime }

    private let input: PCMInput
    private let queue: VoiceSendQueue?
    private let encoder: OpusEncoder
    private let packet: UnsafeMutableRawBufferPointer
    private let metrics: NodeMetrics
    private let log: Logger
    /// Packets queued for the sender.
    public private(set) var framesSent = 0
    /// Packets the full queue refused (the sender fell behind; the audio of those ticks is lost).
    public private(set) var queueFullDrops = 0
    /// Frames libopus refused to encode (counted in the node's errors; nothing sent for them).
    public private(set) var encodeErrors = 0

    public init(_ setup: NodeSetup) throws {
        let p = setup.params
        input = setup.pcmInput("in")
        queue = setup.resources.get(VoiceSendQueue.self)
        metrics = setup.metrics
        log = setup.log
        encoder = try OpusEncoder(
            sampleRate: PCMFormat.discord.sampleRate, channels: PCMFormat.discord.channels,
            application: OpusOggEncode.application(named: p[Param.application]), bitrate: p[Param.bitrate],
            complexity: p[Param.complexity])
        packet = .allocate(byteCount: OpusEncoder.maxPacketBytes, alignment: 16)
    }

    deinit { packet.deallocate() }

    public func start() throws {
        guard queue != nil else { throw missingVoiceSession(Self.typeName) }
    }

    /// Each packet is stamped with the start of the tick that produced its frame (`MonotonicClock` nanoseconds), so
    /// the sender can measure what the pacing adds.
    public func process(_ tick: Tick) throws {
        guard let queue, let frame = input.frame else { return }
        let length: Int
        do {
            length = try encoder.encode(frame, into: packet)
        } catch {
            encodeErrors += 1
            metrics.errors += 1
            if encodeErrors == 1 { log.error("cannot encode a frame, nothing sent for it: \(error)") }
            return
        }
        if queue.send(opus: UnsafeRawBufferPointer(rebasing: packet[0..<length]), stamp: tick.startNanos) {
            framesSent += 1
        } else {
            queueFullDrops += 1
            metrics.drops += 1
        }
    }
}
