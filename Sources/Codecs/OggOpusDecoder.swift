/// Ogg Opus bytes in, fixed-size PCM frames out.
///
/// Combines `OggOpusStreamReader` and `OpusDecoder`: applies each stream's pre-skip (so an
/// `OggOpusEncoder` round trip is sample-aligned with its input), trims the end to the EOS granule
/// position, fills gaps left by lost pages with packet-loss concealment (up to 120 ms per gap, detected
/// from page granule positions), follows chained streams, and re-chunks decoded packets (2.5-120 ms)
/// into frames of `samplesPerFrame` per channel through an internal FIFO. Input is decoded eagerly (on
/// `push` and `readFrame`) until `bufferCapacity` samples per channel are ready, so
/// `bufferedSamplesPerChannel` is the playout backlog; input beyond that waits undecoded in the Ogg
/// layer until frames are read. Bad input is counted, never thrown:
/// see `decodeErrors`, `lastError` and `reader.statistics`; an implausible granule position costs only the
/// page's timing (gap concealment, end trim), never its audio. Not thread-safe; no allocation per frame.
public final class OggOpusDecoder {
    /// Output sample rate in Hz (8, 12, 16, 24 or 48 kHz).
    public let sampleRate: Int
    /// Output channel count (1 or 2), independent of the stream's channel count.
    public let channels: Int
    /// Samples per channel in each frame returned by `readFrame`.
    public let samplesPerFrame: Int
    /// Whether each stream's OpusHead pre-skip is dropped (RFC 7845). sphn (PersonaPlex) ignores it when
    /// decoding and declares 80 ms while its encoder delay is about 11 ms, so its streams lose ~69 ms at the
    /// start when it is applied.
    public let appliesPreSkip: Bool
    /// Decoded samples per channel held ready before decoding pauses (the playout buffer size).
    public let bufferCapacity: Int
    /// The demultiplexer (its `statistics` count page-level damage).
    public let reader = OggOpusStreamReader()
    /// Packets libopus rejected.
    public private(set) var decodeErrors = 0
    /// Samples per channel (output rate) synthesised by packet-loss concealment for lost pages.
    public private(set) var concealedSamples = 0
    /// The most recent packet decode error (page-level problems are in `reader.lastError`).
    public private(set) var lastError: CodecError?
    /// Called for each packet that fails to decode (optional).
    public var onError: ((CodecError) -> Void)?

    private let decoder: OpusDecoder
    private let fifo: SampleFIFO
    private let scratch: UnsafeMutableBufferPointer<Float>
    private var samplesToSkip = 0
    private var streamPosition48k: Int64 = 0
    private var sawGranuleInStream = false

    /// Creates a decoder producing `frameDuration` frames of `channels` channels at `sampleRate`.
    /// `bufferCapacity` (samples per channel, default 3 s) bounds the decoded backlog.
    public init(
        sampleRate: Int = 48_000, channels: Int = 1, frameDuration: OpusFrameDuration = .ms20,
        applyPreSkip: Bool = true, bufferCapacity: Int? = nil
    ) throws {
        appliesPreSkip = applyPreSkip
        self.bufferCapacity = max(0, bufferCapacity ?? sampleRate * 3)
        decoder = try OpusDecoder(sampleRate: sampleRate, channels: channels)
        self.sampleRate = sampleRate
        self.channels = channels
        samplesPerFrame = frameDuration.samplesPerChannel(sampleRate: sampleRate)
        scratch = .allocate(capacity: decoder.maxSamplesPerChannel * channels)
        scratch.initialize(repeating: 0)
        // The backlog, plus one frame, plus room for a concealed gap and one decoded packet.
        fifo = SampleFIFO(
            capacity: (self.bufferCapacity + samplesPerFrame + 2 * decoder.maxSamplesPerChannel) * channels)
    }

    deinit {
        scratch.deallocate()
    }

    /// Header of the stream being decoded, once seen.
    public var head: OpusHead? { reader.head }

    /// Decoded samples per channel waiting in the FIFO (not counting undecoded input).
    public var bufferedSamplesPerChannel: Int { fifo.count / channels }

    /// Appends Ogg bytes in any chunking and decodes what they complete (up to `bufferCapacity`).
    public func push(_ bytes: UnsafeRawBufferPointer) {
        reader.push(bytes)
        fill()
    }

    /// Fills `output` (at least `samplesPerFrame * channels` samples) with the next frame if enough input
    /// has arrived; returns false, leaving `output` untouched, otherwise.
    public func readFrame(into output: UnsafeMutableBufferPointer<Float>) -> Bool {
        let frame = samplesPerFrame * channels
        guard output.count >= frame else { return false }
        fill()
        guard fifo.count >= frame else { return false }
        fifo.read(into: UnsafeMutableBufferPointer(rebasing: output[0..<frame]))
        return true
    }

    /// At the end of the input, once `readFrame` returns false: moves the last partial frame (up to
    /// `output.count` samples) into `output`; returns samples per channel written.
    public func readRemainder(into output: UnsafeMutableBufferPointer<Float>) -> Int {
        fill()
        let usable = output.count - output.count % channels
        return fifo.read(into: UnsafeMutableBufferPointer(rebasing: output[0..<usable])) / channels
    }

    /// Drops buffered input, decoded audio and counters, ready for an unrelated stream.
    public func reset() {
        reader.reset()
        decoder.reset()
        fifo.removeAll()
        samplesToSkip = 0
        streamPosition48k = 0
        decodeErrors = 0
        concealedSamples = 0
        lastError = nil
    }

    /// Decodes packets while the FIFO has room for a concealed gap plus a packet beyond the backlog.
    private func fill() {
        while fifo.freeSpace >= 2 * decoder.maxSamplesPerChannel * channels, decodeNextPacket() {}
    }

    /// Decodes one packet into the FIFO; false when the reader needs more input.
    private func decodeNextPacket() -> Bool {
        guard let event = reader.next() else { return false }
        switch event {
        case let .streamStarted(_, head):
            decoder.reset()
            streamPosition48k = 0
            sawGranuleInStream = false
            samplesToSkip = appliesPreSkip ? head.preSkip * sampleRate / 48_000 : 0
        case let .packet(packet):
            decode(packet)
        }
        return true
    }

    private func decode(_ packet: OggOpusPacket) {
        let ratio = 48_000 / sampleRate
        if let duration = try? OpusDecoder.sampleCount(packet: packet.data, sampleRate: 48_000) {
            concealGap(before: packet, duration48k: Int64(duration))
        }
        let decoded: Int
        do {
            decoded = try decoder.decode(packet: packet.data, into: scratch)
        } catch {
            let codecError = error as? CodecError ?? .invalidArgument("\(error)")
            decodeErrors += 1
            lastError = codecError
            onError?(codecError)
            return
        }
        var keep = decoded
        let duration48k = Int64(decoded * ratio)
        if packet.isEndOfStream, packet.granulePosition >= streamPosition48k {
            // RFC 7845 4.4: the EOS granule position marks the last valid sample. A granule behind the
            // samples already decoded is implausible (sphn counts in 24 kHz units), so it trims nothing.
            let left = saturatingDifference(packet.granulePosition, streamPosition48k)
            keep = Int(min(duration48k, left)) / ratio
        }
        // Positions come from the wire: the reader bounds granules, and saturation keeps timing from trapping
        // even past that bound (timing degrades, audio does not).
        streamPosition48k = saturatingSum(streamPosition48k, duration48k)
        if packet.granulePosition >= 0 && !packet.isEndOfStream { streamPosition48k = packet.granulePosition }
        append(decoded: keep)
    }

    /// A page granule position further ahead than the packets seen means pages were lost: synthesise the
    /// missing audio (at most 120 ms; longer gaps are only re-timed) so the output keeps real time.
    private func concealGap(before packet: OggOpusPacket, duration48k: Int64) {
        guard packet.granulePosition >= 0, !packet.isEndOfStream else { return }
        defer { sawGranuleInStream = true }
        // The first granule of a stream may legitimately start later than zero (RFC 7845 4.5).
        guard sawGranuleInStream else { return }
        let ratio = 48_000 / sampleRate
        let expectedStart = saturatingDifference(packet.granulePosition, duration48k)
        guard expectedStart > streamPosition48k else { return }
        let missing48k = saturatingDifference(expectedStart, streamPosition48k)
        let step = sampleRate / 400  // PLC works in 2.5 ms units
        let missing = min(Int(missing48k) / ratio, decoder.maxSamplesPerChannel) / step * step
        guard missing > 0, let concealed = try? decoder.concealLoss(samplesPerChannel: missing, into: scratch) else {
            return
        }
        concealedSamples += concealed
        streamPosition48k = saturatingSum(streamPosition48k, Int64(concealed * ratio))
        append(decoded: concealed)
    }

    /// Moves the first `count` samples per channel of `scratch` into the FIFO, honouring pending pre-skip.
    private func append(decoded count: Int) {
        let skipped = min(samplesToSkip, count)
        samplesToSkip -= skipped
        guard count > skipped else { return }
        fifo.write(UnsafeBufferPointer(rebasing: scratch[(skipped * channels)..<(count * channels)]))
    }
}

/// `a + b` clamped to `Int64`'s range (stream positions derive from wire granules).
private func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? .max : .min) : sum
}

/// `a - b` clamped to `Int64`'s range (stream positions derive from wire granules).
private func saturatingDifference(_ a: Int64, _ b: Int64) -> Int64 {
    let (difference, overflow) = a.subtractingReportingOverflow(b)
    return overflow ? (b > 0 ? .min : .max) : difference
}
