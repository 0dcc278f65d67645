import CSpeexDSP

/// Streaming sample-rate and channel-count converter on the speexdsp resampler (float, interleaved).
///
/// Pipeline: down-mix (if the output has fewer channels) -> speexdsp -> up-mix (if it has more) -> FIFO.
/// `process` consumes all of its input and returns as many whole output sample frames as fit in `output`
/// and are available; leftovers stay in the FIFO for the next call.
///
/// Alignment: speexdsp starts from silent history, so by default its output is delayed by
/// `latencySamples` (per channel, at the output rate; `speex_resampler_get_output_latency`). In that mode,
/// for rate pairs where 20 ms is a whole number of samples on both sides, every call with one input frame
/// returns exactly one output frame from the first call on. Pass `skipZeros: true` to remove the delay instead:
/// output is then time-aligned with the input, the first call returns `latencySamples` fewer per channel,
/// and `flush` returns the tail at the end of the stream. Equal rates bypass speexdsp (no delay).
/// Not thread-safe; all buffers are allocated in `init`.
public final class Resampler {
    /// Input sample rate in Hz.
    public let inputRate: Int
    /// Output sample rate in Hz.
    public let outputRate: Int
    /// Input channels (interleaved).
    public let inputChannels: Int
    /// Output channels (interleaved).
    public let outputChannels: Int
    /// speexdsp quality, 0 (fastest) ... 10 (best).
    public let quality: Int
    /// Whether the initial filter delay is skipped (see type documentation).
    public let skipsZeros: Bool
    /// Delay of the output relative to the input, in output samples per channel (0 with `skipZeros`).
    public let latencySamples: Int
    /// The filter delay speexdsp reports, in output samples per channel, whether skipped or not.
    public let filterLatencySamples: Int
    /// Samples lost because output was not drained fast enough (FIFO full).
    public private(set) var droppedSamples = 0

    private let state: OpaquePointer?
    private let engineChannels: Int
    private let downMixer: ChannelMixer?
    private let upMixer: ChannelMixer?
    private let maxChunkFrames: Int
    private let mixedInput: UnsafeMutableBufferPointer<Float>
    private let resampled: UnsafeMutableBufferPointer<Float>
    private let upMixed: UnsafeMutableBufferPointer<Float>
    private let fifo: SampleFIFO

    /// Creates a converter. `maxInputFramesPerCall` (per channel) sizes the internal buffers; larger inputs are
    /// processed in chunks, so it only bounds the work per chunk (default 120 ms).
    public init(
        inputRate: Int, inputChannels: Int, outputRate: Int, outputChannels: Int, quality: Int = 5,
        skipZeros: Bool = false, maxInputFramesPerCall: Int? = nil
    ) throws {
        guard inputRate > 0, outputRate > 0 else {
            throw CodecError.invalidArgument("sample rates must be positive (got \(inputRate) -> \(outputRate))")
        }
        guard (0...10).contains(quality) else {
            throw CodecError.invalidArgument("resampler quality \(quality); use 0...10")
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.quality = quality
        self.skipsZeros = skipZeros
        let engineChannels = min(inputChannels, outputChannels)
        self.engineChannels = engineChannels
        downMixer =
            inputChannels > engineChannels
            ? try ChannelMixer(inputChannels: inputChannels, outputChannels: engineChannels) : nil
        upMixer =
            outputChannels > engineChannels
            ? try ChannelMixer(inputChannels: engineChannels, outputChannels: outputChannels) : nil

        if inputRate == outputRate {
            state = nil
            filterLatencySamples = 0
        } else {
            var error: Int32 = 0
            guard
                let created = speex_resampler_init(
                    UInt32(engineChannels), UInt32(inputRate), UInt32(outputRate),
                    Int32(quality), &error), error == 0
            else {
                throw CodecError.resampler(
                    "speex_resampler_init(\(inputRate) -> \(outputRate) Hz, quality \(quality)): "
                        + String(cString: speex_resampler_strerror(error)))
            }
            state = created
            filterLatencySamples = Int(speex_resampler_get_output_latency(created))
            if skipZeros { speex_resampler_skip_zeros(created) }
        }
        latencySamples = skipZeros ? 0 : filterLatencySamples

        maxChunkFrames = max(1, maxInputFramesPerCall ?? inputRate * 120 / 1000)
        let maxOutFrames = maxChunkFrames * outputRate / inputRate + 16
        mixedInput = .allocate(capacity: maxChunkFrames * engineChannels)
        resampled = .allocate(capacity: maxOutFrames * engineChannels)
        upMixed = .allocate(capacity: maxOutFrames * outputChannels)
        mixedInput.initialize(repeating: 0)
        resampled.initialize(repeating: 0)
        upMixed.initialize(repeating: 0)
        fifo = SampleFIFO(capacity: (4 * maxOutFrames + outputRate / Self.framesPerSecond) * outputChannels)
    }

    deinit {
        if let state { speex_resampler_destroy(state) }
        mixedInput.deallocate()
        resampled.deallocate()
        upMixed.deallocate()
    }

    /// 20 ms frames per second: the frame `inputFrameSamples`/`outputFrameSamples` count (the router's tick; this
    /// library does not know the engine, so it names the rate itself).
    public static let framesPerSecond = 50
    /// Input samples per channel in one 20 ms frame.
    public var inputFrameSamples: Int { inputRate / Self.framesPerSecond }
    /// Output samples per channel in one 20 ms frame.
    public var outputFrameSamples: Int { outputRate / Self.framesPerSecond }
    /// Converted samples per channel waiting to be returned.
    public var bufferedSamplesPerChannel: Int { fifo.count / outputChannels }

    /// Converts `input` (whole sample frames, interleaved) and writes up to `output.count` converted samples;
    /// returns the number of samples (interleaved count) written.
    public func process(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) -> Int {
        let frames = input.count / inputChannels
        var done = 0
        while done < frames {
            let chunk = min(maxChunkFrames, frames - done)
            convert(
                UnsafeBufferPointer(rebasing: input[(done * inputChannels)..<((done + chunk) * inputChannels)]),
                frames: chunk)
            done += chunk
        }
        return drain(into: output)
    }

    /// At end of stream: pushes silence through the filter so the last input samples come out, then returns
    /// up to `output.count` samples. With `skipZeros` this yields the `filterLatencySamples` tail.
    public func flush(output: UnsafeMutableBufferPointer<Float>) -> Int {
        if state != nil {
            let tailInputFrames = (filterLatencySamples * inputRate + outputRate - 1) / outputRate
            let zeros = UnsafeMutableBufferPointer(
                rebasing: mixedInput[0..<(min(tailInputFrames, maxChunkFrames) * engineChannels)])
            zeros.update(repeating: 0)
            let before = fifo.count
            resample(UnsafeBufferPointer(zeros), frames: zeros.count / engineChannels)
            // Keep only the delayed input tail, not the extra silence pushed in behind it.
            let produced = fifo.count - before
            let wanted = filterLatencySamples * outputChannels
            if produced > wanted { fifo.discardNewest(produced - wanted) }
        }
        return drain(into: output)
    }

    /// Clears filter history and buffered output.
    public func reset() {
        if let state {
            speex_resampler_reset_mem(state)
            if skipsZeros { speex_resampler_skip_zeros(state) }
        }
        fifo.removeAll()
    }

    private func drain(into output: UnsafeMutableBufferPointer<Float>) -> Int {
        let usable = output.count - output.count % outputChannels
        guard usable > 0 else { return 0 }
        return fifo.read(into: UnsafeMutableBufferPointer(rebasing: output[0..<usable]))
    }

    private func convert(_ input: UnsafeBufferPointer<Float>, frames: Int) {
        let engineInput: UnsafeBufferPointer<Float>
        if let downMixer {
            downMixer.mix(input, into: mixedInput, frames: frames)
            engineInput = UnsafeBufferPointer(rebasing: mixedInput[0..<(frames * engineChannels)])
        } else {
            engineInput = input
        }
        resample(engineInput, frames: frames)
    }

    /// Runs engine-channel audio through speexdsp (or straight through at equal rates) into the FIFO.
    private func resample(_ input: UnsafeBufferPointer<Float>, frames: Int) {
        guard let state else {
            store(input, frames: frames)
            return
        }
        var consumed = 0
        let capacityFrames = resampled.count / engineChannels
        while consumed < frames {
            var inLength = UInt32(frames - consumed)
            var outLength = UInt32(capacityFrames)
            speex_resampler_process_interleaved_float(
                state, input.baseAddress! + consumed * engineChannels, &inLength,
                resampled.baseAddress!, &outLength)
            consumed += Int(inLength)
            store(
                UnsafeBufferPointer(rebasing: resampled[0..<(Int(outLength) * engineChannels)]), frames: Int(outLength))
            if inLength == 0 && outLength == 0 { break }
        }
    }

    private func store(_ samples: UnsafeBufferPointer<Float>, frames: Int) {
        let final: UnsafeBufferPointer<Float>
        if let upMixer {
            upMixer.mix(samples, into: upMixed, frames: frames)
            final = UnsafeBufferPointer(rebasing: upMixed[0..<(frames * outputChannels)])
        } else {
            final = samples
        }
        let stored = fifo.write(final)
        droppedSamples += final.count - stored
    }
}
