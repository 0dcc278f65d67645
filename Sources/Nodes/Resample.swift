import Codecs
import RouterCore

/// Converts PCM from any rate and channel count to any other (up/down-mix included), streaming, on speexdsp.
/// With `compensate_delay` (default) the filter delay is removed so the output lines up with the input in time:
/// the first output frame appears one tick later and the tail is flushed when the input ends. Audio the converter
/// had to drop (its buffer full, e.g. an output rate that is not a whole number of samples per 20 ms drifting ahead)
/// is counted in the node's drops, in output frames.
public final class Resample: NodeType {
    public static let typeName = "Resample"
    public static let summary = "Convert PCM to another sample rate and channel count (speexdsp)."
    private enum Param {
        static let rate: ParameterKey<Int> = .requiredSampleRate("rate", probe: 48_000, "Output sample rate in Hz.")
        static let channels: ParameterKey<Int> = .int(
            "channels", 1...8, default: 1,
            "Output channel count (down-mix averages, up-mix copies).")
        static let quality: ParameterKey<Int> = .int(
            "quality", 0...10, default: 5, "speexdsp quality: 0 fastest, 10 best.")
        static let compensateDelay: ParameterKey<Bool> = .bool(
            "compensate_delay", default: true,
            "Remove the filter delay so output aligns with input.")
    }
    public static let parameters = [
        Param.rate.spec, Param.channels.spec, Param.quality.spec, Param.compensateDelay.spec,
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        let out = PCMFormat(sampleRate: params[Param.rate], channels: params[Param.channels])
        return PortLayout(
            inputs: [InputSpec("in", .pcm, doc: "PCM in any format.")],
            outputs: [OutputSpec("out", .pcm(out), doc: "PCM in the configured format.")])
    }

    private let input: PCMInput
    private let output: PCMLane
    private let metrics: NodeMetrics
    private let resampler: Resampler
    private let nothing = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var flushed = false
    private let inputChannels: Int
    /// Input samples per channel received, and output samples per channel written.
    private var inputSamples = 0
    private var outputSamples = 0

    public init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        output = setup.pcmOutput("out")
        metrics = setup.metrics
        guard let from = input.lanes.first?.pcmFormat else { throw NodeError("input 'in' is not linked") }
        let to = output.pcmFormat
        inputChannels = from.channels
        resampler = try Resampler(
            inputRate: from.sampleRate, inputChannels: from.channels,
            outputRate: to.sampleRate, outputChannels: to.channels,
            quality: setup.params[Param.quality],
            skipZeros: setup.params[Param.compensateDelay])
    }

    /// After the flush: output samples per channel still due, so the stream totals the input length × the rate ratio
    /// (plus the filter delay when it is not compensated). speexdsp's flushed tail can run a few samples long at
    /// fractional ratios (44.1 -> 48 kHz), which would otherwise add a padded frame at the end.
    private var remaining: Int {
        let total =
            (inputSamples * resampler.outputRate + resampler.inputRate / 2) / resampler.inputRate
            + resampler.latencySamples
        return max(0, total - outputSamples)
    }

    public var isDrained: Bool { resampler.bufferedSamplesPerChannel == 0 || (flushed && remaining == 0) }

    public func process(_ tick: Tick) throws {
        if let frame = input.frame {
            inputSamples += frame.count / inputChannels
            _ = resampler.process(input: frame, output: nothing)
        }
        if input.allEnded && !flushed {
            flushed = true
            _ = resampler.flush(output: nothing)
        }
        let perChannel = output.pcmFormat.samplesPerChannel
        let available =
            flushed ? min(resampler.bufferedSamplesPerChannel, remaining) : resampler.bufferedSamplesPerChannel
        if available >= perChannel || (flushed && available > 0) {
            let channels = output.pcmFormat.channels
            output.write { out in
                let n = min(
                    resampler.process(input: UnsafeBufferPointer(start: nil, count: 0), output: out),
                    available * channels)
                if n < out.count { UnsafeMutableBufferPointer(rebasing: out[n...]).update(repeating: 0) }
                outputSamples += n / channels
            }
        }
        // Converted audio the resampler's buffer had no room for, in output frames (rounded up).
        let frameSamples = output.pcmFormat.samplesPerFrame
        metrics.drops = (resampler.droppedSamples + frameSamples - 1) / frameSamples
    }
}
