/// How samples are stored in a WAV data chunk.
public enum WAVSampleEncoding: Sendable, CaseIterable {
    /// Unsigned 8-bit PCM.
    case pcm8
    /// Signed 16-bit little-endian PCM.
    case pcm16
    /// Signed 24-bit little-endian PCM (packed, 3 bytes).
    case pcm24
    /// Signed 32-bit little-endian PCM.
    case pcm32
    /// IEEE 754 32-bit float.
    case float32
    /// IEEE 754 64-bit float.
    case float64

    /// Bytes per sample of one channel.
    public var bytesPerSample: Int {
        switch self {
        case .pcm8: return 1
        case .pcm16: return 2
        case .pcm24: return 3
        case .pcm32, .float32: return 4
        case .float64: return 8
        }
    }

    /// WAVE format tag: 1 for integer PCM, 3 for IEEE float.
    public var formatTag: UInt16 {
        switch self {
        case .pcm8, .pcm16, .pcm24, .pcm32: return 1
        case .float32, .float64: return 3
        }
    }

    init(formatTag: UInt16, bitsPerSample: Int, reportedTag: UInt16) throws {
        switch (formatTag, bitsPerSample) {
        case (1, 8): self = .pcm8
        case (1, 16): self = .pcm16
        case (1, 24): self = .pcm24
        case (1, 32): self = .pcm32
        case (3, 32): self = .float32
        case (3, 64): self = .float64
        case (1, _), (3, _): throw CodecError.unsupportedBitsPerSample(bits: bitsPerSample, formatTag: reportedTag)
        default: throw CodecError.unsupportedFormatTag(formatTag)
        }
    }
}

/// Layout of a WAV file's audio: rate, channels and sample encoding.
public struct WAVFormat: Equatable, Sendable {
    /// Sample rate in Hz.
    public var sampleRate: Int
    /// Interleaved channel count.
    public var channels: Int
    /// Storage of each sample.
    public var encoding: WAVSampleEncoding

    /// Creates a format description.
    public init(sampleRate: Int, channels: Int, encoding: WAVSampleEncoding) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.encoding = encoding
    }

    /// Bytes per sample frame (all channels).
    public var bytesPerFrame: Int { channels * encoding.bytesPerSample }
}

/// Little-endian sample conversion between WAV storage and Float32.
enum WAVSampleCodec {
    static func decode(
        _ bytes: UnsafeRawPointer, encoding: WAVSampleEncoding, count: Int,
        into output: UnsafeMutablePointer<Float>
    ) {
        let b = bytes.assumingMemoryBound(to: UInt8.self)
        switch encoding {
        case .pcm8:
            for i in 0..<count { output[i] = (Float(b[i]) - 128) / 128 }
        case .pcm16:
            for i in 0..<count {
                output[i] = Float(Int16(bitPattern: UInt16(b[2 * i]) | UInt16(b[2 * i + 1]) << 8)) / 32768
            }
        case .pcm24:
            for i in 0..<count {
                let raw = Int32(b[3 * i]) | Int32(b[3 * i + 1]) << 8 | Int32(b[3 * i + 2]) << 16
                output[i] = Float((raw << 8) >> 8) / 8_388_608
            }
        case .pcm32:
            for i in 0..<count { output[i] = Float(Int32(bitPattern: load32(b + 4 * i))) / 2_147_483_648 }
        case .float32:
            for i in 0..<count { output[i] = Float(bitPattern: load32(b + 4 * i)) }
        case .float64:
            for i in 0..<count {
                let value = UInt64(load32(b + 8 * i)) | UInt64(load32(b + 8 * i + 4)) << 32
                output[i] = Float(Double(bitPattern: value))
            }
        }
    }

    static func encode(
        _ input: UnsafePointer<Float>, count: Int, encoding: WAVSampleEncoding,
        into bytes: UnsafeMutableRawPointer
    ) {
        let b = bytes.assumingMemoryBound(to: UInt8.self)
        switch encoding {
        case .pcm8:
            for i in 0..<count { b[i] = UInt8(quantize(input[i], scale: 128, min: -128, max: 127) + 128) }
        case .pcm16:
            for i in 0..<count {
                store(
                    UInt32(bitPattern: quantize(input[i], scale: 32768, min: -32768, max: 32767)), b + 2 * i, bytes: 2)
            }
        case .pcm24:
            for i in 0..<count {
                store(
                    UInt32(bitPattern: quantize(input[i], scale: 8_388_608, min: -8_388_608, max: 8_388_607)),
                    b + 3 * i, bytes: 3)
            }
        case .pcm32:
            for i in 0..<count {
                let clamped = Double(max(-1, min(1, input[i]))) * 2_147_483_648
                let value = Int32(max(-2_147_483_648, min(2_147_483_647, clamped.rounded())))
                store(UInt32(bitPattern: value), b + 4 * i, bytes: 4)
            }
        case .float32:
            for i in 0..<count { store(input[i].bitPattern, b + 4 * i, bytes: 4) }
        case .float64:
            for i in 0..<count {
                let value = Double(input[i]).bitPattern
                store(UInt32(truncatingIfNeeded: value), b + 8 * i, bytes: 4)
                store(UInt32(truncatingIfNeeded: value >> 32), b + 8 * i + 4, bytes: 4)
            }
        }
    }

    private static func quantize(_ x: Float, scale: Float, min lower: Int32, max upper: Int32) -> Int32 {
        guard x.isFinite else { return 0 }
        let scaled = (x * scale).rounded()
        if scaled <= Float(lower) { return lower }
        if scaled >= Float(upper) { return upper }
        return Int32(scaled)
    }

    private static func load32(_ p: UnsafePointer<UInt8>) -> UInt32 {
        UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
    }

    private static func store(_ value: UInt32, _ p: UnsafeMutablePointer<UInt8>, bytes: Int) {
        for k in 0..<bytes { p[k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
    }
}
