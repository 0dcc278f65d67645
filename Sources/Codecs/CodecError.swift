import COpus

/// Every failure the codec layer reports. Messages say what was wrong and, where possible, what was expected.
public enum CodecError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A libopus call failed; `code` is the libopus error code (OPUS_BAD_ARG, OPUS_INVALID_PACKET, ...).
    case opus(operation: String, code: Int32)
    /// A parameter is outside what the codec supports.
    case invalidArgument(String)
    /// A caller-provided buffer cannot hold the result.
    case bufferTooSmall(needed: Int, available: Int)
    /// A zero-length Opus packet was passed where audio was expected (it would trigger packet-loss concealment).
    case emptyPacket
    /// An OpusHead or OpusTags header is malformed.
    case invalidOggOpusHeader(String)
    /// An Ogg page failed its CRC check and was dropped.
    case corruptOggPage
    /// An Ogg page's granule position is negative (other than -1, "no packet ends here") or beyond
    /// `OggOpusStreamReader.maxGranulePosition`; the page's audio is kept, its timing is not.
    case invalidGranulePosition(Int64)
    /// The speexdsp resampler could not be created.
    case resampler(String)
    /// The file does not start with "RIFF".
    case notRIFF
    /// The RIFF form type is not "WAVE".
    case notWAVE
    /// The WAV file has no "fmt " chunk before its data.
    case noFmtChunk
    /// The WAV file has no "data" chunk.
    case noDataChunk
    /// The "fmt " chunk is shorter than its format requires.
    case fmtChunkTooShort(Int)
    /// The WAV format tag is not PCM (1), IEEE float (3) or extensible (0xFFFE) wrapping one of those.
    case unsupportedFormatTag(UInt16)
    /// The sample width is not supported for the given format tag.
    case unsupportedBitsPerSample(bits: Int, formatTag: UInt16)
    /// The WAV header declares an impossible layout (zero channels, zero rate, bad block align).
    case invalidWAVHeader(String)
    /// The data chunk declares more bytes than the file holds.
    case dataChunkTruncated(expected: Int, found: Int)
    /// A file system call failed.
    case io(String)

    public var description: String {
        switch self {
        case let .opus(operation, code):
            return "\(operation) failed: \(String(cString: opus_strerror(code))) (libopus error \(code))"
        case let .invalidArgument(message):
            return "invalid argument: \(message)"
        case let .bufferTooSmall(needed, available):
            return "buffer too small: need \(needed) elements, have \(available)"
        case .emptyPacket:
            return "empty Opus packet (zero bytes); a decoder would conceal it as loss"
        case let .invalidOggOpusHeader(message):
            return "invalid Ogg Opus header: \(message)"
        case .corruptOggPage:
            return "Ogg page failed its CRC check and was dropped"
        case let .invalidGranulePosition(granule):
            return "Ogg page granule position \(granule) is outside 0...\(OggOpusStreamReader.maxGranulePosition); "
                + "its audio is decoded without its timing"
        case let .resampler(message):
            return "resampler: \(message)"
        case .notRIFF:
            return "not a RIFF file"
        case .notWAVE:
            return "not a WAVE file (RIFF form type is not WAVE)"
        case .noFmtChunk:
            return "no fmt chunk"
        case .noDataChunk:
            return "no data chunk"
        case let .fmtChunkTooShort(size):
            return "fmt chunk too short: \(size) bytes"
        case let .unsupportedFormatTag(tag):
            return "unsupported WAV format tag 0x\(hex4(tag)) (supported: 0x0001 PCM, 0x0003 float, 0xFFFE extensible)"
        case let .unsupportedBitsPerSample(bits, tag):
            return
                "unsupported WAV sample width \(bits) bits for format tag 0x\(hex4(tag)) (PCM: 8/16/24/32, float: 32/64)"
        case let .invalidWAVHeader(message):
            return "invalid WAV header: \(message)"
        case let .dataChunkTruncated(expected, found):
            return "data chunk truncated: expected \(expected) bytes, found \(found)"
        case let .io(message):
            return "I/O error: \(message)"
        }
    }
}

private func hex4(_ value: UInt16) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
