/// DAVE media frame trailer: `[tag 8][ULEB128 nonce][ULEB128 ranges][u8 size][FA FA]` (dave.md §5).
public enum DAVEFrameFormat {
    /// Bytes of the truncated AES-GCM tag.
    public static let tagLength = 8
    /// Trailer marker.
    public static let marker: (UInt8, UInt8) = (0xFA, 0xFA)
    /// Smallest possible supplemental section: tag, one nonce byte, size byte, marker.
    public static let minimumSupplementalLength = tagLength + 1 + 1 + 2
    /// Largest supplemental section we write: tag, a 5-byte ULEB128 u32 nonce, size byte, marker.
    public static let maximumOverhead = tagLength + 5 + 1 + 2
    /// The Opus silence frame, passed through unencrypted by both sides.
    public static let opusSilence: [UInt8] = [0xF8, 0xFF, 0xFE]

    /// Bytes needed to ULEB128-encode `value`.
    @inlinable
    public static func leb128Length(_ value: UInt64) -> Int {
        var count = 1
        var rest = value >> 7
        while rest != 0 {
            count += 1
            rest >>= 7
        }
        return count
    }

    /// Whether `frame` is exactly the Opus silence frame.
    public static func isOpusSilence<C: Collection>(_ frame: C) -> Bool where C.Element == UInt8 {
        frame.count == 3 && frame.elementsEqual(opusSilence)
    }

    /// Whether `frame` is exactly the Opus silence frame (no generic dispatch: the per-frame path).
    public static func isOpusSilence(_ frame: UnsafeRawBufferPointer) -> Bool {
        frame.count == 3 && frame[0] == 0xF8 && frame[1] == 0xFF && frame[2] == 0xFE
    }
}

/// Location of the parts of an encrypted frame inside its buffer.
struct ParsedDAVEFrame {
    /// Ciphertext is `[0, ciphertextLength)`.
    let ciphertextLength: Int
    /// Tag is `[tagOffset, tagOffset + 8)`.
    let tagOffset: Int
    let truncatedNonce: UInt32
    /// Whether the frame declared unencrypted ranges (never produced for Opus).
    let hasUnencryptedRanges: Bool

    /// Parses the trailer from the end, or returns `nil` if `frame` is not a DAVE frame.
    static func parse(_ frame: UnsafeRawBufferPointer) -> ParsedDAVEFrame? {
        let count = frame.count
        guard count >= DAVEFrameFormat.minimumSupplementalLength,
            frame[count - 1] == 0xFA, frame[count - 2] == 0xFA
        else { return nil }
        let supplementalLength = Int(frame[count - 3])
        guard supplementalLength >= DAVEFrameFormat.minimumSupplementalLength, supplementalLength <= count else {
            return nil
        }
        let tagOffset = count - supplementalLength
        let end = count - 3
        var cursor = tagOffset + DAVEFrameFormat.tagLength
        guard let nonce = readLEB128(frame, &cursor, end: end), nonce <= UInt64(UInt32.max) else { return nil }
        var hasRanges = false
        while cursor < end {
            guard let offset = readLEB128(frame, &cursor, end: end),
                let size = readLEB128(frame, &cursor, end: end)
            else { return nil }
            let (rangeEnd, overflow) = offset.addingReportingOverflow(size)
            guard !overflow, rangeEnd <= UInt64(tagOffset) else { return nil }
            hasRanges = true
        }
        return ParsedDAVEFrame(
            ciphertextLength: tagOffset, tagOffset: tagOffset,
            truncatedNonce: UInt32(nonce), hasUnencryptedRanges: hasRanges)
    }

    private static func readLEB128(_ buffer: UnsafeRawBufferPointer, _ cursor: inout Int, end: Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < end {
            let byte = buffer[cursor]
            cursor += 1
            guard shift < 64 else { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
