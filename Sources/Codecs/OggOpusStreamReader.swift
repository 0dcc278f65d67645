import COgg

/// One Opus packet read from an Ogg stream. `data` is valid only until the next call on the reader.
public struct OggOpusPacket {
    /// The packet bytes.
    public let data: UnsafeRawBufferPointer
    /// Granule position (48 kHz) of the page if this packet is the last one completed on it, else -1.
    /// Always -1 or in `0...OggOpusStreamReader.maxGranulePosition` (the reader drops implausible ones).
    public let granulePosition: Int64
    /// Serial number of the logical stream.
    public let serial: UInt32
    /// Packet number within the logical stream (headers are 0 and 1).
    public let packetNumber: Int64
    /// True for the last packet of the logical stream (EOS page).
    public let isEndOfStream: Bool
}

/// What `OggOpusStreamReader.next()` found.
public enum OggOpusReaderEvent {
    /// A new logical Opus stream began (first stream or a chained one) with this header.
    case streamStarted(serial: UInt32, head: OpusHead)
    /// An audio packet of the current stream.
    case packet(OggOpusPacket)
}

/// Counters of everything the reader skipped or repaired. They only grow (until `reset()`).
public struct OggOpusReaderStatistics: Equatable, Sendable {
    /// Pages with a valid CRC that were accepted.
    public var pages = 0
    /// Pages that began with "OggS" but failed the CRC check (dropped).
    public var corruptPages = 0
    /// Bytes skipped while searching for the next page (garbage and corrupt pages).
    public var skippedBytes = 0
    /// Gaps in a stream's page sequence (lost or corrupt pages); packets spanning a gap are dropped.
    public var sequenceGaps = 0
    /// Pages of other logical streams (non-Opus or not the current stream) that were ignored.
    public var foreignPages = 0
    /// OpusHead packets that could not be parsed; the stream is ignored until the next BOS page.
    public var invalidHeaders = 0
    /// Logical Opus streams started.
    public var streams = 0
    /// Audio packets returned.
    public var packets = 0
    /// Granule positions outside `0...OggOpusStreamReader.maxGranulePosition` (other than -1); their packets
    /// were returned with granule -1, so they carry no timing.
    public var invalidGranulePositions = 0
}

/// Incremental Ogg Opus demultiplexer on libogg. Accepts bytes in any chunking, resynchronises after
/// garbage, drops pages with bad CRCs (counting them), follows chained streams, and returns the OpusHead
/// of each logical stream followed by its audio packets (OpusTags is skipped). Never traps on bad input.
public final class OggOpusStreamReader {
    /// The largest granule position passed on: 2^62 samples is three million years at 48 kHz, so anything
    /// larger is damage or an attack, and the 2^62 of headroom left lets a decoder add packet durations
    /// and gap lengths to a position without overflowing 64 bits.
    public static let maxGranulePosition: Int64 = 1 << 62

    private enum State { case noStream, awaitingHead, awaitingTags, audio, ignoring }

    /// What has been skipped or repaired so far.
    public private(set) var statistics = OggOpusReaderStatistics()
    /// The most recent problem found in the input (also counted in `statistics`).
    public private(set) var lastError: CodecError?
    /// Header of the current logical stream, once its OpusHead has been read.
    public private(set) var head: OpusHead?
    /// Serial of the current logical stream.
    public private(set) var serial: UInt32?

    private let sync: UnsafeMutablePointer<ogg_sync_state>
    private let stream: UnsafeMutablePointer<ogg_stream_state>
    private var state = State.noStream

    /// Creates an empty reader.
    public init() {
        sync = .allocate(capacity: 1)
        stream = .allocate(capacity: 1)
        ogg_sync_init(sync)
        ogg_stream_init(stream, 0)
    }

    deinit {
        ogg_sync_clear(sync)
        ogg_stream_clear(stream)
        sync.deallocate()
        stream.deallocate()
    }

    /// Forgets all buffered input, streams and counters.
    public func reset() {
        ogg_sync_reset(sync)
        ogg_stream_reset_serialno(stream, 0)
        state = .noStream
        head = nil
        serial = nil
        statistics = OggOpusReaderStatistics()
        lastError = nil
    }

    /// Bytes pushed but not yet formed into a page: at the end of the input, an incomplete (truncated) page.
    public var unreadByteCount: Int {
        let s = sync.pointee
        return max(0, Int(s.fill - s.returned))
    }

    /// Appends input bytes (any split: partial pages, several pages, garbage).
    public func push(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let source = bytes.baseAddress else { return }
        guard let buffer = ogg_sync_buffer(sync, bytes.count) else {
            lastError = .io("libogg could not grow its sync buffer to \(bytes.count) more bytes")
            return
        }
        UnsafeMutableRawPointer(buffer).copyMemory(from: source, byteCount: bytes.count)
        ogg_sync_wrote(sync, bytes.count)
    }

    /// Returns the next stream start or audio packet, or nil when more input is needed.
    public func next() -> OggOpusReaderEvent? {
        while true {
            if state != .noStream {
                var packet = ogg_packet()
                let result = ogg_stream_packetout(stream, &packet)
                if result < 0 {
                    statistics.sequenceGaps += 1
                    continue
                }
                if result > 0 {
                    if let event = handle(packet) { return event }
                    continue
                }
            }
            guard readPage() else { return nil }
        }
    }

    /// Pulls one page from the sync layer into the stream layer; false when no whole page is buffered.
    private func readPage() -> Bool {
        while true {
            let startsWithCapture = bufferedInputStartsWithCapture()
            var page = ogg_page()
            let result = ogg_sync_pageseek(sync, &page)
            if result == 0 { return false }
            if result < 0 {
                statistics.skippedBytes += Int(-result)
                if startsWithCapture {
                    statistics.corruptPages += 1
                    lastError = .corruptOggPage
                }
                continue
            }
            accept(&page)
            return true
        }
    }

    private func bufferedInputStartsWithCapture() -> Bool {
        let s = sync.pointee
        guard let data = s.data, s.fill - s.returned >= 4 else { return false }
        let p = data + Int(s.returned)
        return p[0] == 0x4F && p[1] == 0x67 && p[2] == 0x67 && p[3] == 0x53
    }

    private func accept(_ page: inout ogg_page) {
        statistics.pages += 1
        let pageSerial = UInt32(bitPattern: ogg_page_serialno(&page))
        if ogg_page_bos(&page) != 0 {
            guard pageBodyStarts(page, with: "OpusHead") else {
                statistics.foreignPages += 1
                lastError = .invalidOggOpusHeader("logical stream \(pageSerial) is not Opus; ignored")
                return
            }
            ogg_stream_reset_serialno(stream, Int32(bitPattern: pageSerial))
            serial = pageSerial
            head = nil
            state = .awaitingHead
        } else if state == .noStream || pageSerial != serial {
            statistics.foreignPages += 1
            return
        }
        if ogg_stream_pagein(stream, &page) != 0 {
            statistics.foreignPages += 1
        }
    }

    private func pageBodyStarts(_ page: ogg_page, with prefix: StaticString) -> Bool {
        guard page.body_len >= prefix.utf8CodeUnitCount, let body = page.body else { return false }
        let expected = prefix.utf8Start
        for i in 0..<prefix.utf8CodeUnitCount where body[i] != expected[i] { return false }
        return true
    }

    private func handle(_ packet: ogg_packet) -> OggOpusReaderEvent? {
        let bytes = UnsafeRawBufferPointer(start: packet.packet, count: packet.bytes)
        switch state {
        case .noStream, .ignoring:
            return nil
        case .awaitingHead:
            do {
                let parsed = try OpusHead.parse(bytes)
                guard parsed.channels <= 2 else {
                    throw CodecError.invalidOggOpusHeader(
                        "\(parsed.channels)-channel Ogg Opus (mapping family "
                            + "\(parsed.mappingFamily)) is not supported; only mono and stereo")
                }
                head = parsed
                state = .awaitingTags
                statistics.streams += 1
                return .streamStarted(serial: serial ?? 0, head: parsed)
            } catch let error as CodecError {
                statistics.invalidHeaders += 1
                lastError = error
                state = .ignoring
                return nil
            } catch {
                state = .ignoring
                return nil
            }
        case .awaitingTags:
            state = .audio
            if bytes.starts(with: "OpusTags".utf8) { return nil }
            // A lost tags page: treat what follows as audio rather than losing the stream.
            return audioEvent(packet, bytes)
        case .audio:
            return audioEvent(packet, bytes)
        }
    }

    private func audioEvent(_ packet: ogg_packet, _ bytes: UnsafeRawBufferPointer) -> OggOpusReaderEvent {
        statistics.packets += 1
        if packet.e_o_s != 0 { state = .ignoring }
        var granule = packet.granulepos
        if granule < -1 || granule > OggOpusStreamReader.maxGranulePosition {
            statistics.invalidGranulePositions += 1
            lastError = .invalidGranulePosition(granule)
            granule = -1
        }
        return .packet(
            OggOpusPacket(
                data: bytes, granulePosition: granule, serial: serial ?? 0,
                packetNumber: packet.packetno, isEndOfStream: packet.e_o_s != 0))
    }
}
