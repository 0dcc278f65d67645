import RouterCore

/// Mixes every active PCM input into one stream: linked inputs and per-speaker streams that come and go at run time.
/// Sum, scale by the number of active inputs (or not, in `sum` mode), apply gain, then a soft limiter so the result
/// never clips. Silence when nobody is active. A speaker whose stream appears emits `speakerJoined`, and one whose
/// stream is missing from a tick emits `speakerLeft`, on the optional `events` output.
public final class Mixer: NodeType {
    public static let typeName = "Mixer"
    public static let summary = "Mix any number of PCM inputs and per-speaker streams (average or sum, soft limiter)."
    private enum Param {
        static let rate: ParameterKey<Int> = .sampleRate("rate", default: 48_000, "Sample rate of inputs and output.")
        static let channels: ParameterKey<Int> = .int(
            "channels", 1...8, default: 2, "Channel count of inputs and output.")
        static let mode: ParameterKey<String> = .choice(
            "mode", ["average", "sum"], default: "average",
            "average: divide by the number of active inputs (seed 000); sum: plain sum.")
        static let gain: ParameterKey<Double> = .double(
            "gain_db", -60...24, default: 0, "Gain applied after mixing, in dB.")
        static let limiter: ParameterKey<Bool> = .bool(
            "limiter", default: true,
            "Soft-limit peaks above -1 dBFS instead of hard clipping.")
    }
    public static let parameters = [
        Param.rate.spec, Param.channels.spec, Param.mode.spec, Param.gain.spec, Param.limiter.spec,
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        let format = PCMFormat(sampleRate: params[Param.rate], channels: params[Param.channels])
        return PortLayout(
            inputs: [
                InputSpec(
                    "in", .pcm, .exact(format), required: false, many: true,
                    doc: "PCM inputs; a tick without a frame is an inactive input."),
                InputSpec(
                    "streams", .pcmStreams, .exact(format), required: false, many: true,
                    doc: "Per-speaker streams (speakers appear and disappear)."),
            ],
            outputs: [
                OutputSpec("out", .pcm(format), doc: "The mix, every tick."),
                OutputSpec(
                    "events", MediaFormat(.event),
                    doc: "speaker joined/left as per-speaker streams appear and disappear."),
            ])
    }

    private let inputs: PCMInput
    private let streams: PCMStreamsInput
    private let output: PCMLane
    private let events: EventLane
    /// Speaker ids present in the previous tick and in this one (capacity reserved up front: no allocation per tick).
    private var previousSpeakers: [UInt64] = []
    private var currentSpeakers: [UInt64] = []
    private let averaging: Bool
    private let gain: Float
    private let limiter: Bool
    /// Samples the limiter reshaped or the clamp cut (for the metrics' errors column it is not an error; kept here).
    public private(set) var limitedSamples = 0
    /// Number of inputs active in the last tick.
    public private(set) var activeInputs = 0

    public init(_ setup: NodeSetup) throws {
        inputs = setup.pcmInput("in")
        streams = setup.streamsInput("streams")
        output = setup.pcmOutput("out")
        events = setup.eventOutput("events")
        let capacity = max(1, streams.lanes.reduce(0) { $0 + $1.capacity })
        previousSpeakers.reserveCapacity(capacity)
        currentSpeakers.reserveCapacity(capacity)
        averaging = setup.params[Param.mode] == "average"
        gain = Float(pow10(setup.params[Param.gain], over: 20))
        limiter = setup.params[Param.limiter]
    }

    public func process(_ tick: Tick) throws {
        var mix = MixAccumulator(output.samples)
        for lane in inputs.lanes {
            if let frame = lane.frame { mix.add(frame) }
        }
        for lane in streams.lanes {
            for i in 0..<lane.count {
                mix.add(lane.frame(at: i))
                let id = lane.id(at: i)
                if !currentSpeakers.contains(id) { currentSpeakers.append(id) }
            }
        }
        announceSpeakers()
        activeInputs = mix.count
        // Once every linked input has ended and nothing arrived in this tick, the mix is over: writing a silent frame
        // here would add 20 ms to the end of every stream (the runtime ends the output after this tick).
        if mix.count == 0 && inputsEnded { return }
        limitedSamples += mix.finish(averaging: averaging, gain: gain, softLimit: limiter)
        output.write { _ in }
    }

    /// Emits `speakerJoined` for ids new in this tick and `speakerLeft` for ids gone since the last, then makes this
    /// tick's set the previous one.
    private func announceSpeakers() {
        for id in currentSpeakers where !previousSpeakers.contains(id) { events.emit(.speakerJoined(id: id)) }
        for id in previousSpeakers where !currentSpeakers.contains(id) { events.emit(.speakerLeft(id: id)) }
        swap(&previousSpeakers, &currentSpeakers)
        currentSpeakers.removeAll(keepingCapacity: true)
    }

    /// True when at least one input is linked and every linked lane (PCM and per-speaker) has ended.
    private var inputsEnded: Bool {
        (inputs.isLinked || streams.isLinked) && inputs.lanes.allSatisfy(\.ended) && streams.lanes.allSatisfy(\.ended)
    }
}

/// The mixing arithmetic, usable outside the graph (the benchmark calls it bare): the first frame is copied, the
/// others added, then one pass scales (average or sum, gain) and limits. Silence when nothing was added.
public struct MixAccumulator {
    public let out: UnsafeMutableBufferPointer<Float>
    /// Frames added so far.
    public private(set) var count = 0

    @inline(__always)
    public init(_ out: UnsafeMutableBufferPointer<Float>) { self.out = out }

    @inline(__always)
    public mutating func add(_ frame: UnsafeBufferPointer<Float>) {
        let n = min(frame.count, out.count)
        if count == 0 {
            out.baseAddress!.update(from: frame.baseAddress!, count: n)
            if n < out.count { UnsafeMutableBufferPointer(rebasing: out[n...]).update(repeating: 0) }
        } else {
            for i in 0..<n { out[i] += frame[i] }
        }
        count += 1
    }

    /// Scales and limits in one pass; returns how many samples the limiter touched.
    /// Soft limit: a knee above -1 dBFS maps (threshold, ∞) smoothly into (threshold, 1), so the output never clips;
    /// otherwise samples are clamped to ±1.
    @inline(__always)
    public mutating func finish(averaging: Bool, gain: Float, softLimit: Bool) -> Int {
        guard count > 0 else {
            out.update(repeating: 0)
            return 0
        }
        let scale = (averaging && count > 1 ? 1 / Float(count) : 1) * gain
        let threshold: Float = 0.891
        let headroom = 1 - threshold
        var limited = 0
        for i in 0..<out.count {
            let x = out[i] * scale
            let magnitude = abs(x)
            if magnitude <= threshold {
                out[i] = x
                continue
            }
            limited += 1
            if softLimit {
                let over = (magnitude - threshold) / headroom
                let shaped = threshold + headroom * (over / (1 + over))
                out[i] = x < 0 ? -shaped : shaped
            } else {
                out[i] = max(-1, min(1, x))
            }
        }
        return limited
    }
}

/// 10^(value/over), without Foundation.
func pow10(_ value: Double, over: Double) -> Double {
    exp(value / over * 2.302585092994046)
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
