import Foundation
import RouterCore

/// Scales a PCM edge by a fixed gain in dB (the AI's voice too loud next to the users, a quiet microphone).
/// Clipped to ±1 so a boost never wraps; the format passes through unchanged.
public final class Gain: NodeType {
    public static let typeName = "Gain"
    public static let summary = "Scale PCM by a gain in dB (clipped to full scale)."
    private static let gain: ParameterKey<Double> = .double(
        "db", -60...24, default: 0, "Gain in dB (negative = quieter).")
    public static let parameters = [gain.spec]

    public static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [InputSpec("in", .pcm, doc: "Any PCM.")],
            outputs: [OutputSpec("out", .pcm, sameAs: "in", doc: "The same format, scaled.")])
    }

    private let input: PCMInput
    private let output: PCMLane
    private let factor: Float

    public init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        output = setup.pcmOutput("out")
        factor = Float(pow(10, setup.params[Self.gain] / 20))
    }

    public func process(_ tick: Tick) throws {
        guard let frame = input.frame else { return }  // no signal in, no signal out
        output.write { out in
            for i in 0..<out.count { out[i] = min(1, max(-1, frame[i] * factor)) }
        }
    }
}
