import COpus

/// Frame durations libopus can encode.
public enum OpusFrameDuration: Int, CaseIterable, Sendable {
    case ms2_5 = 25
    case ms5 = 50
    case ms10 = 100
    case ms20 = 200
    case ms40 = 400
    case ms60 = 600
    /// Multi-frame packets (libopus ≥ 1.2): PersonaPlex's server sends 80 ms packets.
    case ms80 = 800
    case ms100 = 1000
    case ms120 = 1200

    /// Samples per channel in one frame at `sampleRate`.
    public func samplesPerChannel(sampleRate: Int) -> Int { sampleRate * rawValue / 10_000 }
}

/// The libopus application profile.
public enum OpusApplication: Sendable {
    /// Speech-optimised (OPUS_APPLICATION_VOIP).
    case voip
    /// General audio (OPUS_APPLICATION_AUDIO).
    case audio
    /// Lowest delay, CELT only (OPUS_APPLICATION_RESTRICTED_LOWDELAY).
    case lowDelay

    var opusValue: Int32 {
        switch self {
        case .voip: return OPUS_APPLICATION_VOIP
        case .audio: return OPUS_APPLICATION_AUDIO
        case .lowDelay: return OPUS_APPLICATION_RESTRICTED_LOWDELAY
        }
    }
}

/// Sample rates libopus accepts for encoding and decoding.
public let opusSampleRates: Set<Int> = [8000, 12000, 16000, 24000, 48000]

/// Float-PCM Opus encoder (libopus). DTX is off, so every call yields a non-empty packet.
/// Not thread-safe; one instance per stream.
public final class OpusEncoder {
    /// Input sample rate in Hz.
    public let sampleRate: Int
    /// Input channel count (1 or 2).
    public let channels: Int
    /// The libopus application profile.
    public let application: OpusApplication
    /// Duration of each encoded frame.
    public let frameDuration: OpusFrameDuration
    /// Samples per channel that `encode` expects in each call.
    public let samplesPerChannel: Int
    /// Encoder lookahead in samples per channel at `sampleRate` (OPUS_GET_LOOKAHEAD).
    public let lookahead: Int
    /// Lookahead expressed in 48 kHz samples: the Ogg Opus pre-skip for this encoder.
    public var preSkip48k: Int { lookahead * 48_000 / sampleRate }
    /// Largest packet libopus can produce (RFC 6716 limit); size `encode` output buffers with this.
    public static let maxPacketBytes = 1275 * 3 + 7

    private let state: OpaquePointer

    /// Creates an encoder. `bitrate` nil means OPUS_AUTO; `complexity` is 0...10.
    public init(
        sampleRate: Int = 48_000, channels: Int = 1, application: OpusApplication = .audio,
        bitrate: Int? = nil, complexity: Int = 10, frameDuration: OpusFrameDuration = .ms20
    ) throws {
        guard opusSampleRates.contains(sampleRate) else {
            throw CodecError.invalidArgument(
                "Opus sample rate \(sampleRate) Hz; use 8000, 12000, 16000, 24000 or 48000")
        }
        guard channels == 1 || channels == 2 else {
            throw CodecError.invalidArgument("Opus encoder channels \(channels); use 1 or 2")
        }
        guard (0...10).contains(complexity) else {
            throw CodecError.invalidArgument("Opus complexity \(complexity); use 0...10")
        }
        var error: Int32 = 0
        guard let created = opus_encoder_create(Int32(sampleRate), Int32(channels), application.opusValue, &error),
            error == OPUS_OK
        else {
            throw CodecError.opus(operation: "opus_encoder_create", code: error)
        }
        state = created
        self.sampleRate = sampleRate
        self.channels = channels
        self.application = application
        self.frameDuration = frameDuration
        self.samplesPerChannel = frameDuration.samplesPerChannel(sampleRate: sampleRate)
        do {
            try OpusControl.setEncoder(created, OPUS_SET_DTX_REQUEST, 0, name: "OPUS_SET_DTX")
            try OpusControl.setEncoder(
                created, OPUS_SET_COMPLEXITY_REQUEST, Int32(complexity), name: "OPUS_SET_COMPLEXITY")
            if let bitrate {
                guard (500...512_000).contains(bitrate) else {
                    throw CodecError.invalidArgument("Opus bitrate \(bitrate) b/s; use 500...512000")
                }
                try OpusControl.setEncoder(created, OPUS_SET_BITRATE_REQUEST, Int32(bitrate), name: "OPUS_SET_BITRATE")
            }
            lookahead = Int(try OpusControl.getEncoder(created, OPUS_GET_LOOKAHEAD_REQUEST, name: "OPUS_GET_LOOKAHEAD"))
        } catch {
            opus_encoder_destroy(created)
            throw error
        }
    }

    deinit { opus_encoder_destroy(state) }

    /// Changes the target bitrate in bits per second (500...512000).
    public func setBitrate(_ bitsPerSecond: Int) throws {
        guard (500...512_000).contains(bitsPerSecond) else {
            throw CodecError.invalidArgument("Opus bitrate \(bitsPerSecond) b/s; use 500...512000")
        }
        try OpusControl.setEncoder(state, OPUS_SET_BITRATE_REQUEST, Int32(bitsPerSecond), name: "OPUS_SET_BITRATE")
    }

    /// Changes the complexity (0...10).
    public func setComplexity(_ complexity: Int) throws {
        guard (0...10).contains(complexity) else {
            throw CodecError.invalidArgument("Opus complexity \(complexity); use 0...10")
        }
        try OpusControl.setEncoder(state, OPUS_SET_COMPLEXITY_REQUEST, Int32(complexity), name: "OPUS_SET_COMPLEXITY")
    }

    /// Clears the encoder history (as after init), e.g. when a new logical stream starts.
    public func reset() { OpusControl.resetEncoder(state) }

    /// Encodes exactly one frame (`samplesPerChannel * channels` interleaved samples) into `output`;
    /// returns the packet length in bytes (always at least 1).
    public func encode(_ pcm: UnsafeBufferPointer<Float>, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        let expected = samplesPerChannel * channels
        guard pcm.count == expected, let input = pcm.baseAddress else {
            throw CodecError.invalidArgument(
                "Opus frame has \(pcm.count) samples; expected \(expected) "
                    + "(\(samplesPerChannel) per channel x \(channels) channels)")
        }
        guard output.count > 0, let out = output.baseAddress else {
            throw CodecError.bufferTooSmall(needed: OpusEncoder.maxPacketBytes, available: output.count)
        }
        let capacity = Int32(min(output.count, OpusEncoder.maxPacketBytes))
        let result = opus_encode_float(
            state, input, Int32(samplesPerChannel),
            out.assumingMemoryBound(to: UInt8.self), capacity)
        if result < 0 { throw CodecError.opus(operation: "opus_encode_float", code: result) }
        guard result > 0 else { throw CodecError.emptyPacket }
        return Int(result)
    }
}
