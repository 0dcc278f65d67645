/// Builds rtpsize packets with the optional parts Discord's servers use — CSRCs, a header extension, RTP padding —
/// for the simulator and tests (our own sender uses the plain `VoicePacketSealer`).
public enum RTPPacketBuilder {
    /// Seals `payload` after an extension body of `extensionBody` (a multiple of 4 bytes, `0xBEDE` one-byte
    /// profile) and before `padding` pad bytes (the last of them holding the count); returns the packet.
    /// `padding` 0 leaves the P bit clear; an empty `payload` with padding makes a padding-only packet.
    public static func packet(
        cipher: TransportCipher, sequence: UInt16, timestamp: UInt32, ssrc: UInt32,
        csrcs: [UInt32] = [], extensionBody: [UInt8]? = nil, payload: [UInt8],
        padding: UInt8 = 0, nonce: UInt32
    ) throws -> [UInt8] {
        precondition(csrcs.count < 16 && (extensionBody?.count ?? 0) % 4 == 0, "RTP header parts out of range")
        var header = RTPHeader(sequence: sequence, timestamp: timestamp, ssrc: ssrc)
        header.csrcCount = UInt8(csrcs.count)
        header.hasExtension = extensionBody != nil
        header.padding = padding > 0
        var aad = [UInt8](repeating: 0, count: header.unencryptedLength)
        aad.withUnsafeMutableBytes { raw in
            header.write(to: raw)
            for (i, csrc) in csrcs.enumerated() { RTPHeader.put(csrc, raw, 12 + 4 * i) }
        }
        if let extensionBody {
            let at = 12 + 4 * csrcs.count
            let words = extensionBody.count / 4
            aad[at] = 0xBE
            aad[at + 1] = 0xDE
            aad[at + 2] = UInt8(truncatingIfNeeded: words >> 8)
            aad[at + 3] = UInt8(truncatingIfNeeded: words)
        }
        var plaintext = (extensionBody ?? []) + payload
        if padding > 0 {
            plaintext += [UInt8](repeating: 0, count: Int(padding) - 1) + [padding]
        }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: TransportMode.tagLength)
        try plaintext.withUnsafeBytes { p in
            try aad.withUnsafeBytes { a in
                try ciphertext.withUnsafeMutableBytes { c in
                    try tag.withUnsafeMutableBytes { t in
                        try cipher.seal(plaintext: p, aad: a, nonce: nonce, ciphertext: c, tag: t)
                    }
                }
            }
        }
        let nonceBytes = [
            UInt8(truncatingIfNeeded: nonce >> 24), UInt8(truncatingIfNeeded: nonce >> 16),
            UInt8(truncatingIfNeeded: nonce >> 8), UInt8(truncatingIfNeeded: nonce),
        ]
        return aad + ciphertext + tag + nonceBytes
    }

    /// An RTCP receiver report as Discord sends on the voice socket (PT 201, no report blocks, 8 bytes of header,
    /// then an opaque encrypted-looking tail); receivers only demultiplex and count it.
    public static func receiverReport(ssrc: UInt32) -> [UInt8] {
        var bytes: [UInt8] = [0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 0]
        bytes.withUnsafeMutableBytes { RTPHeader.put(ssrc, $0, 4) }
        return bytes + [UInt8](repeating: 0xA5, count: 24)
    }
}
