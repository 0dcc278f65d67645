/// Converts interleaved audio between channel counts.
///
/// Rules: equal counts copy; N -> 1 averages all channels; 1 -> M duplicates; otherwise
/// down-mix (M < N) averages the input channels i with i % M == j into output j, and
/// up-mix (M > N) copies input channel j % N to output j.
public struct ChannelMixer: Sendable {
    /// Input channel count.
    public let inputChannels: Int
    /// Output channel count.
    public let outputChannels: Int

    /// Creates a mixer; both counts must be at least 1.
    public init(inputChannels: Int, outputChannels: Int) throws {
        guard inputChannels >= 1, outputChannels >= 1 else {
            throw CodecError.invalidArgument(
                "channel counts must be at least 1 (got \(inputChannels) -> \(outputChannels))")
        }
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
    }

    /// Mixes `frames` sample frames from `input` to `output`; both must hold enough samples.
    public func mix(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>, frames: Int) {
        let inCh = inputChannels, outCh = outputChannels
        precondition(input.count >= frames * inCh && output.count >= frames * outCh, "ChannelMixer buffer too small")
        guard let src = input.baseAddress, let dst = output.baseAddress else { return }
        if inCh == outCh {
            dst.update(from: src, count: frames * inCh)
        } else if outCh == 1 {
            let scale = 1 / Float(inCh)
            for f in 0..<frames {
                var sum: Float = 0
                for c in 0..<inCh { sum += src[f * inCh + c] }
                dst[f] = sum * scale
            }
        } else if inCh == 1 {
            for f in 0..<frames {
                let value = src[f]
                for c in 0..<outCh { dst[f * outCh + c] = value }
            }
        } else if outCh < inCh {
            for f in 0..<frames {
                for j in 0..<outCh {
                    var sum: Float = 0
                    var n: Float = 0
                    var i = j
                    while i < inCh {
                        sum += src[f * inCh + i]
                        n += 1
                        i += outCh
                    }
                    dst[f * outCh + j] = sum / n
                }
            }
        } else {
            for f in 0..<frames {
                for j in 0..<outCh { dst[f * outCh + j] = src[f * inCh + j % inCh] }
            }
        }
    }
}
