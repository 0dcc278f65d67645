/// The send half of the rtpsize transport: RTP header (PT 120, our SSRC), payload encrypted with the header as AAD,
/// tag, then the 4-byte nonce counter. Sequence +1 per packet; timestamp +960 per 20 ms frame, advanced through
/// pauses too (`skipFrame`), both from random start values (discord.md §4). Allocation-free per packet.
public final class VoicePacketSealer {
    public let cipher: TransportCipher
    public let ssrc: UInt32
    /// The next packet's sequence number.
    public private(set) var sequence: UInt16
    /// The next packet's timestamp.
    public private(set) var timestamp: UInt32
    /// The next packet's nonce counter (never repeats for one key within 2^32 packets).
    public private(set) var nonce: UInt32

    public init(
        cipher: TransportCipher, ssrc: UInt32,
        sequence: UInt16 = .random(in: .min ... .max), timestamp: UInt32 = .random(in: .min ... .max),
        nonce: UInt32 = 0
    ) {
        self.cipher = cipher
        self.ssrc = ssrc
        self.sequence = sequence
        self.timestamp = timestamp
        self.nonce = nonce
    }

    /// Bytes a sealed packet takes for a `payloadLength`-byte frame.
    public static func packetLength(payload payloadLength: Int) -> Int {
        RTPHeader.fixedLength + payloadLength + TransportMode.trailerLength
    }

    /// Seals one 20 ms frame into `output`; returns the packet length. Advances sequence, timestamp and nonce.
    public func seal(frame: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        throws(TransportCipher.Failure) -> Int
    {
        let length = Self.packetLength(payload: frame.count)
        guard output.count >= length else { throw .outputTooSmall }
        RTPHeader(sequence: sequence, timestamp: timestamp, ssrc: ssrc).write(to: output)
        let tagAt = RTPHeader.fixedLength + frame.count
        try cipher.seal(
            plaintext: frame, aad: UnsafeRawBufferPointer(rebasing: output[0..<RTPHeader.fixedLength]),
            nonce: nonce,
            ciphertext: UnsafeMutableRawBufferPointer(rebasing: output[RTPHeader.fixedLength..<tagAt]),
            tag: UnsafeMutableRawBufferPointer(rebasing: output[tagAt..<(tagAt + TransportMode.tagLength)]))
        RTPHeader.put(nonce, output, tagAt + TransportMode.tagLength)
        sequence &+= 1
        timestamp &+= RTPHeader.samplesPerFrame
        nonce &+= 1
        return length
    }

    /// A 20 ms frame passed with nothing sent: the timestamp keeps time, the sequence does not move.
    public func skipFrame() { timestamp &+= RTPHeader.samplesPerFrame }
}
