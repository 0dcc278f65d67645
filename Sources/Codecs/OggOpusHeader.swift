/// The OpusHead identification header (RFC 7845 section 5.1), channel mapping family 0 only.
public struct OpusHead: Equatable, Sendable {
    /// Output channel count (1 or 2 for mapping family 0).
    public var channels: Int
    /// Samples at 48 kHz to discard from the start of the decoded stream.
    public var preSkip: Int
    /// Sample rate of the original input (informational; Opus always runs at 48 kHz internally).
    public var inputSampleRate: Int
    /// Output gain in Q7.8 dB.
    public var outputGain: Int16
    /// Channel mapping family.
    public var mappingFamily: UInt8

    /// Creates a header; defaults match a mono 48 kHz stream with no pre-skip.
    public init(
        channels: Int = 1, preSkip: Int = 0, inputSampleRate: Int = 48_000, outputGain: Int16 = 0,
        mappingFamily: UInt8 = 0
    ) {
        self.channels = channels
        self.preSkip = preSkip
        self.inputSampleRate = inputSampleRate
        self.outputGain = outputGain
        self.mappingFamily = mappingFamily
    }

    /// Serialised size of a mapping-family-0 header.
    public static let encodedSize = 19

    /// The 19-byte packet for mapping family 0.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = Array("OpusHead".utf8)
        bytes.reserveCapacity(OpusHead.encodedSize)
        bytes.append(1)
        bytes.append(UInt8(channels))
        appendLittleEndian(UInt16(preSkip), to: &bytes)
        appendLittleEndian(UInt32(inputSampleRate), to: &bytes)
        appendLittleEndian(UInt16(bitPattern: outputGain), to: &bytes)
        bytes.append(0)
        return bytes
    }

    /// Parses an OpusHead packet. Accepts any version 0...15 (RFC 7845 compatible), mapping families 0 and 1
    /// (family 1 streams are reported but only their channel count is used).
    public static func parse(_ packet: UnsafeRawBufferPointer) throws -> OpusHead {
        guard packet.count >= OpusHead.encodedSize else {
            throw CodecError.invalidOggOpusHeader("OpusHead is \(packet.count) bytes; needs at least 19")
        }
        guard packet.starts(with: "OpusHead".utf8) else {
            throw CodecError.invalidOggOpusHeader("first packet of the stream is not OpusHead")
        }
        let version = packet[8]
        guard version < 16 else {
            throw CodecError.invalidOggOpusHeader("unsupported OpusHead version \(version)")
        }
        let channels = Int(packet[9])
        guard channels >= 1 else { throw CodecError.invalidOggOpusHeader("OpusHead declares 0 channels") }
        let family = packet[18]
        if family == 0 && channels > 2 {
            throw CodecError.invalidOggOpusHeader("mapping family 0 with \(channels) channels")
        }
        return OpusHead(
            channels: channels,
            preSkip: Int(readLittleEndian16(packet, 10)),
            inputSampleRate: Int(readLittleEndian32(packet, 12)),
            outputGain: Int16(bitPattern: readLittleEndian16(packet, 16)),
            mappingFamily: family)
    }
}

/// Builds the OpusTags comment header (RFC 7845 section 5.2) with a vendor string and no comments.
func encodeOpusTags(vendor: String) -> [UInt8] {
    var bytes: [UInt8] = Array("OpusTags".utf8)
    let vendorBytes = Array(vendor.utf8)
    appendLittleEndian(UInt32(vendorBytes.count), to: &bytes)
    bytes.append(contentsOf: vendorBytes)
    appendLittleEndian(UInt32(0), to: &bytes)
    return bytes
}

func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
}

func readLittleEndian16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
}

func readLittleEndian32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
        | UInt32(bytes[offset + 3]) << 24
}
