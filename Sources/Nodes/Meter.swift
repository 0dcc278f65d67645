import Foundation
import RouterCore

/// A tap that measures a PCM edge: RMS and peak level in dBFS over each interval, written to the log.
/// It only reads its input, so the rest of the graph is unchanged by its presence.
public final class Meter: NodeType {
    public static let typeName = "Meter"
    public static let summary = "Tap: log RMS and peak level (dBFS) of a PCM edge at an interval."
    private enum Param {
        static let interval: ParameterKey<Double> = .duration("interval", default: 1, "How often to log a reading.")
        static let label: ParameterKey<String?> = .optionalString(
            "label", "Name shown in the log (default: the node name).")
    }
    public static let parameters = [Param.interval.spec, Param.label.spec]

    public static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(inputs: [InputSpec("in", .pcm, doc: "The PCM edge to measure.")])
    }

    private let input: PCMInput
    private let ticksPerReading: Int64
    private let log: Logger
    private var sumSquares: Double = 0
    private var samples = 0
    private var peak: Float = 0
    private var absentTicks = 0
    /// The last reading: (rms dBFS, peak dBFS), for tests and tools.
    public private(set) var lastReading: (rms: Double, peak: Double)?

    public init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        ticksPerReading = max(1, Tick.count(seconds: setup.params[Param.interval]))
        if let label = setup.params[Param.label] {
            log = Logger(label)
        } else {
            log = setup.log  // the documented default: the node's own name
        }
    }

    public func process(_ tick: Tick) throws {
        if let frame = input.frame {
            var acc: Double = 0
            var p = peak
            for v in frame {
                acc += Double(v * v)
                p = max(p, abs(v))
            }
            sumSquares += acc
            samples += frame.count
            peak = p
        } else {
            absentTicks += 1
        }
        if (tick.index + 1) % ticksPerReading == 0 { report() }
    }

    public func stop() { if samples > 0 { report() } }

    private func report() {
        let rms = samples > 0 ? Self.dBFS(sqrt(sumSquares / Double(samples))) : -Double.infinity
        let peakDB = Self.dBFS(Double(peak))
        lastReading = (rms, peakDB)
        let absent = absentTicks > 0 ? ", no signal in \(absentTicks) frame(s)" : ""
        log.info(String(format: "RMS %.1f dBFS, peak %.1f dBFS", rms, peakDB) + absent)
        sumSquares = 0
        samples = 0
        peak = 0
        absentTicks = 0
    }

    /// Level in dB relative to full scale (1.0); -inf for silence.
    public static func dBFS(_ amplitude: Double) -> Double { amplitude > 0 ? 20 * log10(amplitude) : -Double.infinity }
}
