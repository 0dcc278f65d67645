/// The fixed RTP header fields Discord voice uses (RFC 3550 §5.1), read from or written to raw bytes.
///
/// Discord's audio packets are RTP version 2, payload type 120 (Opus, 48 kHz), with sequence +1 and timestamp +960
/// per 20 ms frame (discord.md §4).
public struct RTPHeader: Equatable, Sendable {
    /// Payload type of Discord's Opus audio.
    public static let opusPayloadType: UInt8 = 120
    /// Length of the fixed header (no CSRCs, no extension).
    public static let fixedLength = 12
    /// RTP timestamp units per 20 ms frame at 48 kHz.
    public static let samplesPerFrame: UInt32 = 960

    /// P bit: the payload ends with padding whose last byte counts it.
    public var padding: Bool
    /// X bit: a header extension follows the CSRCs (its 4-byte preamble is in the clear, its body encrypted).
    public var hasExtension: Bool
    /// Number of 32-bit CSRC identifiers after the fixed header (0–15).
    public var csrcCount: UInt8
    /// The marker bit.
    public var marker: Bool
    /// 7-bit payload type.
    public var payloadType: UInt8
    public var sequence: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    /// Length in 32-bit words of the extension body (from the preamble), 0 without X.
    public var extensionWords: UInt16

    /// A plain header as we send it: version 2, no padding, extension or CSRCs.
    public init(payloadType: UInt8 = RTPHeader.opusPayloadType, sequence: UInt16, timestamp: UInt32, ssrc: UInt32) {
        padding = false
        hasExtension = false
        csrcCount = 0
        marker = false
        self.payloadType = payloadType
        self.sequence = sequence
        self.timestamp = timestamp
        self.ssrc = ssrc
        extensionWords = 0
    }

    /// The bytes authenticated but not encrypted in rtpsize modes: the fixed header, the CSRCs and, when X is set,
    /// the 4-byte extension preamble (discord.md §4 "AAD").
    public var unencryptedLength: Int { Self.fixedLength + 4 * Int(csrcCount) + (hasExtension ? 4 : 0) }

    /// Parses the header at the start of `bytes`; `nil` when it is not RTP version 2 or the bytes end before the
    /// CSRCs and extension preamble it announces.
    public init?(parsing bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.fixedLength else { return nil }
        let b0 = bytes[0]
        guard b0 >> 6 == 2 else { return nil }
        padding = b0 & 0x20 != 0
        hasExtension = b0 & 0x10 != 0
        csrcCount = b0 & 0x0F
        marker = bytes[1] & 0x80 != 0
        payloadType = bytes[1] & 0x7F
        sequence = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        timestamp = Self.u32(bytes, 4)
        ssrc = Self.u32(bytes, 8)
        extensionWords = 0
        guard bytes.count >= unencryptedLength else { return nil }
        if hasExtension {
            let at = Self.fixedLength + 4 * Int(csrcCount)
            extensionWords = UInt16(bytes[at + 2]) << 8 | UInt16(bytes[at + 3])
        }
    }

    /// Writes the fixed 12-byte header (no CSRCs or extension are written; set those bits only when the caller
    /// writes them) to the start of `output`, which must hold at least 12 bytes.
    public func write(to output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= Self.fixedLength, "RTP header needs 12 bytes")
        output[0] = 0x80 | (padding ? 0x20 : 0) | (hasExtension ? 0x10 : 0) | (csrcCount & 0x0F)
        output[1] = (marker ? 0x80 : 0) | (payloadType & 0x7F)
        output[2] = UInt8(truncatingIfNeeded: sequence >> 8)
        output[3] = UInt8(truncatingIfNeeded: sequence)
        Self.put(timestamp, output, 4)
        Self.put(ssrc, output, 8)
    }

    @inline(__always)
    static func u32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    @inline(__always)
    static func put(_ value: UInt32, _ output: UnsafeMutableRawBufferPointer, _ at: Int) {
        output[at] = UInt8(truncatingIfNeeded: value >> 24)
        output[at + 1] = UInt8(truncatingIfNeeded: value >> 16)
        output[at + 2] = UInt8(truncatingIfNeeded: value >> 8)
        output[at + 3] = UInt8(truncatingIfNeeded: value)
    }
}
