import COgg

/// Packs Opus packets into an Ogg Opus stream (RFC 7845) using libogg for paging and CRCs.
///
/// Layout: OpusHead alone on the BOS page, OpusTags on the next page, then audio pages holding
/// `packetsPerPage` packets each. Granule positions are in 48 kHz samples and count every decoded sample
/// through the page (RFC 7845 section 4): output samples after pre-skip plus the pre-skip itself. Finished pages queue internally; take them with `drainPages`, one buffer per page.
/// Not thread-safe. After warm-up no call allocates.
public final class OggOpusStreamWriter {
    /// The identification header written at the start of every logical stream.
    public let head: OpusHead
    /// Audio packets per page; a page is flushed as soon as it holds this many.
    public let packetsPerPage: Int
    /// Serial number of the current logical stream.
    public private(set) var serial: UInt32
    /// Granule position (48 kHz) after the last packet written: the summed packet durations, i.e.
    /// pre-skip plus the output samples a decoder will produce.
    public private(set) var granulePosition: Int64 = 0
    /// Audio packets written in the current logical stream.
    public private(set) var packetCount: Int64 = 0
    /// True once the current logical stream carries its EOS page.
    public private(set) var isFinished = false

    private let stream: UnsafeMutablePointer<ogg_stream_state>
    private var queue = OggPageQueue()
    private var packetsInOpenPage = 0
    private let headPacket: [UInt8]
    private let tagsPacket: [UInt8]
    private var emptyPageHeader = [UInt8](repeating: 0, count: 27)

    /// Creates a writer and queues the two header pages.
    public init(head: OpusHead, serial: UInt32, packetsPerPage: Int = 1, vendor: String = "voice-router") throws {
        guard head.mappingFamily == 0, head.channels == 1 || head.channels == 2 else {
            throw CodecError.invalidArgument("Ogg Opus writer supports mapping family 0 with 1 or 2 channels")
        }
        guard (0...65_535).contains(head.preSkip) else {
            throw CodecError.invalidArgument("pre-skip \(head.preSkip) does not fit in 16 bits")
        }
        guard packetsPerPage >= 1 else { throw CodecError.invalidArgument("packetsPerPage must be at least 1") }
        self.head = head
        self.serial = serial
        self.packetsPerPage = packetsPerPage
        self.headPacket = head.encoded()
        self.tagsPacket = encodeOpusTags(vendor: vendor)
        stream = .allocate(capacity: 1)
        ogg_stream_init(stream, Int32(bitPattern: serial))
        writeHeaders()
    }

    /// Creates a writer whose OpusHead matches `encoder` (channels, pre-skip = lookahead at 48 kHz, input rate).
    public convenience init(
        encoder: OpusEncoder, serial: UInt32, packetsPerPage: Int = 1,
        vendor: String = "voice-router"
    ) throws {
        try self.init(
            head: OpusHead(
                channels: encoder.channels, preSkip: encoder.preSkip48k,
                inputSampleRate: encoder.sampleRate),
            serial: serial, packetsPerPage: packetsPerPage, vendor: vendor)
    }

    deinit {
        ogg_stream_clear(stream)
        stream.deallocate()
        queue.deallocate()
    }

    /// Number of complete pages waiting in `drainPages`.
    public var pendingPageCount: Int { queue.pageCount }
    /// Total bytes of the pages waiting in `drainPages`.
    public var pendingByteCount: Int { queue.byteCount }

    /// Appends one Opus packet. Its duration (from the TOC) advances the granule position.
    /// `endOfStream` marks it as the last packet, flushing its page with the EOS flag; `trimEnd48k` then
    /// lowers its granule position so decoders drop that many trailing samples (RFC 7845 section 4.5).
    public func write(packet: UnsafeRawBufferPointer, endOfStream: Bool = false, trimEnd48k: Int = 0) throws {
        guard !isFinished else {
            throw CodecError.invalidArgument("stream \(serial) is finished; call restart() before writing")
        }
        guard packet.count > 0, let data = packet.baseAddress else { throw CodecError.emptyPacket }
        let duration = try OpusDecoder.sampleCount(packet: packet, sampleRate: 48_000)
        guard trimEnd48k == 0 || (endOfStream && (0...duration).contains(trimEnd48k)) else {
            throw CodecError.invalidArgument(
                "trimEnd48k \(trimEnd48k) needs endOfStream and at most the packet's \(duration) samples")
        }
        granulePosition += Int64(duration - trimEnd48k)
        var oggPacket = ogg_packet(
            packet: UnsafeMutablePointer(mutating: data.assumingMemoryBound(to: UInt8.self)),
            bytes: packet.count, b_o_s: 0, e_o_s: endOfStream ? 1 : 0,
            granulepos: granulePosition, packetno: packetCount + 2)
        ogg_stream_packetin(stream, &oggPacket)
        packetCount += 1
        packetsInOpenPage += 1
        if packetsInOpenPage >= packetsPerPage || endOfStream { flushPages() }
        if endOfStream { isFinished = true }
    }

    /// Flushes any partly filled page now, without waiting for `packetsPerPage` packets.
    public func flush() { flushPages() }

    /// Ends the logical stream: the pending page (or, if none, an empty page with granule -1) gets the EOS
    /// flag. Does nothing if the stream is already finished. To end a file sample-exactly, prefer
    /// `OggOpusEncoder.finish`, which flushes the encoder lookahead and trims the end.
    public func finish() {
        guard !isFinished else { return }
        isFinished = true
        if packetsInOpenPage > 0 {
            stream.pointee.e_o_s = 1
            flushPages()
        } else {
            appendEmptyEndOfStreamPage()
        }
    }

    /// Starts a new logical stream (finishing the current one first): new serial if given, headers again,
    /// granule position back to 0.
    public func restart(serial newSerial: UInt32? = nil) {
        finish()
        if let newSerial { serial = newSerial }
        ogg_stream_reset_serialno(stream, Int32(bitPattern: serial))
        granulePosition = 0
        packetCount = 0
        packetsInOpenPage = 0
        isFinished = false
        writeHeaders()
    }

    /// Hands each finished page to `body` as its own buffer (valid only during the call), oldest first.
    public func drainPages(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try queue.drain(body)
    }

    /// Total bytes of the oldest `count` finished pages (all of them when fewer are waiting).
    public func pendingByteCount(ofFirst count: Int) -> Int { queue.byteCount(ofFirst: count) }

    /// Hands the oldest `count` finished pages (all when fewer are waiting) to `body`, oldest first, and keeps the
    /// rest queued.
    public func drainPages(first count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try queue.drain(first: count, body)
    }

    /// Appends all finished pages, concatenated, to `bytes`.
    public func drainPages(into bytes: inout [UInt8]) {
        queue.drain { bytes.append(contentsOf: $0) }
    }

    private func writeHeaders() {
        submitHeader(headPacket, beginningOfStream: true, packetNumber: 0)
        submitHeader(tagsPacket, beginningOfStream: false, packetNumber: 1)
    }

    private func submitHeader(_ bytes: [UInt8], beginningOfStream: Bool, packetNumber: Int64) {
        bytes.withUnsafeBufferPointer { buffer in
            var packet = ogg_packet(
                packet: UnsafeMutablePointer(mutating: buffer.baseAddress!), bytes: buffer.count,
                b_o_s: beginningOfStream ? 1 : 0, e_o_s: 0, granulepos: 0,
                packetno: packetNumber)
            ogg_stream_packetin(stream, &packet)
        }
        flushPages()
    }

    private func flushPages() {
        var page = ogg_page()
        while ogg_stream_flush(stream, &page) != 0 { queue.append(page) }
        packetsInOpenPage = 0
    }

    /// libogg never emits a page without packets, so the EOS-only page is built here and CRC'd by libogg.
    private func appendEmptyEndOfStreamPage() {
        let pageNumber = UInt32(truncatingIfNeeded: stream.pointee.pageno)
        stream.pointee.pageno += 1
        emptyPageHeader.withUnsafeMutableBufferPointer { header in
            storeLittleEndian(UInt32(0x5367_674F), header, 0)  // "OggS"
            header[4] = 0
            header[5] = 0x04
            storeLittleEndian(UInt64.max, header, 6)  // -1: no packet completes on this page
            storeLittleEndian(serial, header, 14)
            storeLittleEndian(pageNumber, header, 18)
            storeLittleEndian(UInt32(0), header, 22)
            header[26] = 0
            var page = ogg_page(header: header.baseAddress!, header_len: 27, body: header.baseAddress!, body_len: 0)
            ogg_page_checksum_set(&page)
            queue.append(page)
        }
    }
}

private func storeLittleEndian<T: FixedWidthInteger>(
    _ value: T, _ buffer: UnsafeMutableBufferPointer<UInt8>,
    _ offset: Int
) {
    for i in 0..<(T.bitWidth / 8) { buffer[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
}

/// Opus encoder plus Ogg writer: feed frames of PCM, drain pages. For files, call `finish` at the end so the
/// encoder's lookahead is flushed and the decoded length equals the input length exactly.
public final class OggOpusEncoder {
    /// The underlying encoder.
    public let encoder: OpusEncoder
    /// The underlying stream writer.
    public let writer: OggOpusStreamWriter
    /// Input samples per channel encoded in the current logical stream.
    public private(set) var inputSamples = 0
    private let packet: UnsafeMutableRawBufferPointer
    private let paddedFrame: UnsafeMutableBufferPointer<Float>

    /// Wraps `encoder`; pages go to a writer with the given serial and page grouping.
    public init(encoder: OpusEncoder, serial: UInt32, packetsPerPage: Int = 1) throws {
        self.encoder = encoder
        self.writer = try OggOpusStreamWriter(encoder: encoder, serial: serial, packetsPerPage: packetsPerPage)
        packet = .allocate(byteCount: OpusEncoder.maxPacketBytes, alignment: 16)
        paddedFrame = .allocate(capacity: encoder.samplesPerChannel * encoder.channels)
        paddedFrame.initialize(repeating: 0)
    }

    deinit {
        packet.deallocate()
        paddedFrame.deallocate()
    }

    /// Encodes one whole frame and appends its packet to the stream; returns the packet size in bytes.
    @discardableResult
    public func encode(_ pcm: UnsafeBufferPointer<Float>) throws -> Int {
        let size = try encoder.encode(pcm, into: packet)
        try writer.write(packet: UnsafeRawBufferPointer(rebasing: packet[0..<size]))
        inputSamples += encoder.samplesPerChannel
        return size
    }

    /// Ends the stream sample-exactly: encodes `remainder` (less than a frame, may be empty) padded with
    /// silence, then enough silent frames to push out the encoder lookahead, and sets the EOS granule so
    /// decoders output exactly the samples that were given.
    public func finish(remainder: UnsafeBufferPointer<Float> = UnsafeBufferPointer(start: nil, count: 0)) throws {
        let frame = encoder.samplesPerChannel
        guard remainder.count < frame * encoder.channels, remainder.count % encoder.channels == 0 else {
            throw CodecError.invalidArgument(
                "finish remainder of \(remainder.count) samples must be whole frames "
                    + "shorter than one \(frame)-sample frame")
        }
        let validSamples = inputSamples + remainder.count / encoder.channels
        let neededSamples = validSamples + encoder.lookahead
        var encodedSamples = inputSamples
        var first = true
        repeat {
            paddedFrame.update(repeating: 0)
            if first, let base = remainder.baseAddress {
                paddedFrame.baseAddress!.update(from: base, count: remainder.count)
            }
            first = false
            let size = try encoder.encode(UnsafeBufferPointer(paddedFrame), into: packet)
            encodedSamples += frame
            let last = encodedSamples >= neededSamples
            let trim = last ? (encodedSamples - neededSamples) * 48_000 / encoder.sampleRate : 0
            try writer.write(
                packet: UnsafeRawBufferPointer(rebasing: packet[0..<size]), endOfStream: last, trimEnd48k: trim)
        } while encodedSamples < neededSamples
        inputSamples = validSamples
    }

    /// Ends the current logical stream (without flushing the lookahead) and starts a new one with fresh
    /// encoder state, headers and granule position.
    public func restart(serial: UInt32? = nil) {
        writer.restart(serial: serial)
        encoder.reset()
        inputSamples = 0
    }
}
