import Foundation
import RouterCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A tap that measures a PCM edge: RMS and peak level in dBFS over each interval, written to the log. With
/// `per_speaker` it measures per-speaker streams instead, one reading per speaker. It only reads its input, so the
/// rest of the graph is unchanged by its presence.
public final class Meter: NodeType {
    public static let typeName = "Meter"
    public static let summary = "Tap: log RMS and peak level (dBFS) of a PCM edge, or of each speaker, at an interval."
    private enum Param {
        static let interval: ParameterKey<Double> = .duration("interval", default: 1, "How often to log a reading.")
        static let label: ParameterKey<String?> = .optionalString(
            "label", "Name shown in the log (default: the node name).")
        static let perSpeaker: ParameterKey<Bool> = .bool(
            "per_speaker", default: false,
            "Measure per-speaker streams (e.g. DiscordIn's out): one reading per speaker.")
    }
    public static let parameters = [Param.interval.spec, Param.label.spec, Param.perSpeaker.spec]

    public static func ports(_ params: Parameters) -> PortLayout {
        if params[Param.perSpeaker] {
            return PortLayout(inputs: [InputSpec("in", .pcmStreams, doc: "The per-speaker streams to measure.")])
        }
        return PortLayout(inputs: [InputSpec("in", .pcm, doc: "The PCM edge to measure.")])
    }

    /// One level reading in dBFS.
    public typealias Reading = (rms: Double, peak: Double)

    /// Sums over one interval for one stream.
    private struct Level {
        var id: UInt64 = 0
        var sumSquares: Double = 0
        var samples = 0
        var peak: Float = 0
        var absentTicks = 0

        mutating func add(_ frame: UnsafeBufferPointer<Float>) {
            var acc: Double = 0
            var p = peak
            for v in frame {
                acc += Double(v * v)
                p = max(p, abs(v))
            }
            sumSquares += acc
            samples += frame.count
            peak = p
        }

        var reading: Reading {
            (samples > 0 ? Meter.dBFS(sqrt(sumSquares / Double(samples))) : -Double.infinity, Meter.dBFS(Double(peak)))
        }
    }

    /// Speakers measured at once; more are not measured (the lane carries at most this many anyway).
    static let maxSpeakers = 32

    private let input: PCMInput
    private let streams: PCMStreamsInput
    private let ticksPerReading: Int64
    private let log: Logger
    private var level = Level()
    /// Per-speaker sums (room reserved up front), for `per_speaker`.
    private var speakers: [Level] = []
    /// The last reading: (rms dBFS, peak dBFS), for tests and tools.
    public private(set) var lastReading: Reading?
    /// The last reading of each speaker, for `per_speaker`.
    public private(set) var lastSpeakerReadings: [UInt64: Reading] = [:]

    public init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        streams = setup.streamsInput("in")
        ticksPerReading = max(1, Tick.count(seconds: setup.params[Param.interval]))
        if let label = setup.params[Param.label] {
            log = Logger(label)
        } else {
            log = setup.log  // the documented default: the node's own name
        }
        speakers.reserveCapacity(Self.maxSpeakers)
    }

    public func process(_ tick: Tick) throws {
        if streams.isLinked {
            measureSpeakers()
        } else if let frame = input.frame {
            level.add(frame)
        } else {
            level.absentTicks += 1
        }
        if (tick.index + 1) % ticksPerReading == 0 { report() }
    }

    private func measureSpeakers() {
        for lane in streams.lanes {
            for i in 0..<lane.count {
                let id = lane.id(at: i)
                if let k = speakers.firstIndex(where: { $0.id == id }) {
                    speakers[k].add(lane.frame(at: i))
                } else if speakers.count < Self.maxSpeakers {
                    speakers.append(Level(id: id))
                    speakers[speakers.count - 1].add(lane.frame(at: i))
                }
            }
        }
    }

    public func stop() {
        if level.samples > 0 || speakers.contains(where: { $0.samples > 0 }) { report() }
    }

    private func report() {
        if streams.isLinked {
            // A speaker with no frame in the whole interval has left: reported no more.
            speakers.removeAll { $0.samples == 0 }
            for speaker in speakers {
                let reading = speaker.reading
                lastSpeakerReadings[speaker.id] = reading
                log.info("speaker \(speaker.id): " + Self.describe(reading))
            }
            for k in speakers.indices { speakers[k] = Level(id: speakers[k].id) }
            return
        }
        let reading = level.reading
        lastReading = reading
        let absent = level.absentTicks > 0 ? ", no signal in \(level.absentTicks) frame(s)" : ""
        log.info(Self.describe(reading) + absent)
        level = Level()
    }

    private static func describe(_ reading: Reading) -> String {
        String(format: "RMS %.1f dBFS, peak %.1f dBFS", reading.rms, reading.peak)
    }

    /// Level in dB relative to full scale (1.0); -inf for silence.
    public static func dBFS(_ amplitude: Double) -> Double { amplitude > 0 ? 20 * log10(amplitude) : -Double.infinity }
}
