/// What became of one received datagram.
public enum VoicePacketKind: Equatable, Sendable {
    /// An Opus (or DAVE) frame: `payload` in the opener's buffer, valid until the next `open`.
    case audio
    /// An RTCP packet (PT 72–76), counted and not decrypted.
    case rtcp
    /// Dropped; the reason is counted in `VoiceReceiveCounters`.
    case dropped(VoiceDropReason)
}

/// Why a received datagram was not handed on.
public enum VoiceDropReason: Equatable, Sendable {
    /// Not RTP version 2.
    case notRTP
    /// RTP, but neither PT 120 nor RTCP.
    case wrongPayloadType
    /// Shorter than its header, tag and nonce.
    case tooShort
    /// The SSRC belongs to nobody we know (no Speaking op 5 for it yet).
    case unknownSSRC
    /// Transport authentication failed.
    case decryptFailed
    /// The padding count is zero, or at least the decrypted length (padding-only packets land here too).
    case badPadding
    /// The extension body is longer than the decrypted payload.
    case badExtension
    /// Nothing left after stripping padding and the extension body.
    case empty
}

/// Receive-side counters (plain integers: the opener belongs to one event loop).
public struct VoiceReceiveCounters: Equatable, Sendable {
    public var audio = 0
    public var rtcp = 0
    public var notRTP = 0
    public var wrongPayloadType = 0
    public var tooShort = 0
    public var unknownSSRC = 0
    public var decryptFailed = 0
    public var badPadding = 0
    public var badExtension = 0
    public var empty = 0

    public init() {}

    mutating func count(_ reason: VoiceDropReason) {
        switch reason {
        case .notRTP: notRTP += 1
        case .wrongPayloadType: wrongPayloadType += 1
        case .tooShort: tooShort += 1
        case .unknownSSRC: unknownSSRC += 1
        case .decryptFailed: decryptFailed += 1
        case .badPadding: badPadding += 1
        case .badExtension: badExtension += 1
        case .empty: empty += 1
        }
    }

    /// Every dropped datagram.
    public var dropped: Int {
        notRTP + wrongPayloadType + tooShort + unknownSSRC + decryptFailed + badPadding + badExtension + empty
    }
}

/// The receive half of the rtpsize transport (discord.md §4 "Receive path", discord.js `VoiceReceiver.parsePacket`):
/// filter and demultiplex before any decryption, then decrypt into a preallocated buffer, strip RTP padding and the
/// header extension body. Allocation-free per packet. Used from one thread at a time.
public final class VoicePacketOpener {
    /// Largest payload handled (a UDP datagram on Discord's path is well under this).
    public static let maximumPacket = 2048

    public let cipher: TransportCipher
    /// Counters since creation.
    public private(set) var counters = VoiceReceiveCounters()
    /// The last audio packet's header.
    public private(set) var header = RTPHeader(sequence: 0, timestamp: 0, ssrc: 0)
    private let buffer: UnsafeMutableRawBufferPointer
    private var payloadRange: Range<Int> = 0..<0

    public init(cipher: TransportCipher) {
        self.cipher = cipher
        buffer = .allocate(byteCount: Self.maximumPacket, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The last audio packet's frame (Opus, or a DAVE frame when E2EE is on); valid until the next `open`.
    public var payload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[payloadRange]) }

    /// Classifies and, for audio from a known SSRC, decrypts `datagram`.
    public func open(_ datagram: UnsafeRawBufferPointer, isKnown: (UInt32) -> Bool) -> VoicePacketKind {
        let kind = classify(datagram, isKnown: isKnown)
        switch kind {
        case .audio: counters.audio += 1
        case .rtcp: counters.rtcp += 1
        case .dropped(let reason): counters.count(reason)
        }
        return kind
    }

    private func classify(_ datagram: UnsafeRawBufferPointer, isKnown: (UInt32) -> Bool) -> VoicePacketKind {
        guard datagram.count > RTPHeader.fixedLength else {
            return datagram.count >= 2 && datagram[0] >> 6 == 2 ? .dropped(.tooShort) : .dropped(.notRTP)
        }
        guard datagram[0] >> 6 == 2 else { return .dropped(.notRTP) }
        let payloadType = datagram[1] & 0x7F
        if (72...76).contains(payloadType) { return .rtcp }
        guard payloadType == RTPHeader.opusPayloadType else { return .dropped(.wrongPayloadType) }
        guard let parsed = RTPHeader(parsing: datagram) else { return .dropped(.tooShort) }
        let aadLength = parsed.unencryptedLength
        guard datagram.count >= aadLength + TransportMode.trailerLength,
            datagram.count - aadLength - TransportMode.trailerLength <= buffer.count
        else { return .dropped(.tooShort) }
        guard isKnown(parsed.ssrc) else { return .dropped(.unknownSSRC) }

        let nonceAt = datagram.count - TransportMode.nonceSuffixLength
        let tagAt = nonceAt - TransportMode.tagLength
        let cipherLength = tagAt - aadLength
        do {
            try cipher.open(
                ciphertext: UnsafeRawBufferPointer(rebasing: datagram[aadLength..<tagAt]),
                tag: UnsafeRawBufferPointer(rebasing: datagram[tagAt..<nonceAt]),
                aad: UnsafeRawBufferPointer(rebasing: datagram[0..<aadLength]),
                nonce: RTPHeader.u32(datagram, nonceAt),
                plaintext: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<cipherLength]))
        } catch {
            return .dropped(.decryptFailed)
        }
        var end = cipherLength
        if parsed.padding {
            guard end > 0 else { return .dropped(.badPadding) }
            let count = Int(buffer[end - 1])
            guard count > 0, count < end else { return .dropped(.badPadding) }
            end -= count
        }
        let extensionBytes = 4 * Int(parsed.extensionWords)
        guard extensionBytes <= end else { return .dropped(.badExtension) }
        guard extensionBytes < end else { return .dropped(.empty) }
        header = parsed
        payloadRange = extensionBytes..<end
        return .audio
    }
}
