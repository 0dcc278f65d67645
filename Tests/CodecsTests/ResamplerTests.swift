import XCTest

@testable import Codecs

final class ResamplerTests: XCTestCase {
    /// Feeds `input` in 20 ms frames, asking for one 20 ms output frame per call; returns output and per-call counts.
    private func resampleFrames(_ resampler: Resampler, _ input: [Float]) -> (output: [Float], counts: [Int]) {
        let inFrame = resampler.inputFrameSamples * resampler.inputChannels
        var out = [Float](repeating: 0, count: resampler.outputFrameSamples * resampler.outputChannels)
        var output: [Float] = []
        var counts: [Int] = []
        input.withUnsafeBufferPointer { all in
            for start in stride(from: 0, to: all.count, by: inFrame) {
                let n = out.withUnsafeMutableBufferPointer {
                    resampler.process(input: UnsafeBufferPointer(rebasing: all[start..<(start + inFrame)]), output: $0)
                }
                counts.append(n)
                output += out[0..<n]
            }
        }
        return (output, counts)
    }

    func test48kStereoTo24kMonoKeepsToneFrequencyAndAmplitude() throws {
        let resampler = try Resampler(inputRate: 48_000, inputChannels: 2, outputRate: 24_000, outputChannels: 1)
        let input = tone(frequency: 1000, sampleRate: 48_000, frames: 960 * 100, channels: 2)
        let (output, counts) = resampleFrames(resampler, input)
        XCTAssertEqual(Set(counts), [480], "exactly one 20 ms frame per call")
        XCTAssertGreaterThan(resampler.latencySamples, 0)
        let settled = Array(output.dropFirst(resampler.latencySamples + 480))
        XCTAssertEqual(goertzelAmplitude(settled, frequency: 1000, sampleRate: 24_000), 0.5, accuracy: 0.01)
        let seconds = Double(settled.count) / 24_000
        XCTAssertEqual(Double(risingZeroCrossings(settled)), 1000 * seconds, accuracy: 2)
        // The reported latency is the actual delay.
        let reference = tone(frequency: 1000, sampleRate: 24_000, frames: output.count, channels: 1)
        XCTAssertGreaterThan(correlation(reference, output, lag: resampler.latencySamples), 0.999)
    }

    func test24kMonoTo48kStereoDuplicatesChannels() throws {
        let resampler = try Resampler(
            inputRate: 24_000, inputChannels: 1, outputRate: 48_000, outputChannels: 2, quality: 7)
        let input = tone(frequency: 1000, sampleRate: 24_000, frames: 480 * 100, channels: 1)
        let (output, counts) = resampleFrames(resampler, input)
        XCTAssertEqual(Set(counts), [1920])
        let left = channel(output, 0, of: 2), right = channel(output, 1, of: 2)
        XCTAssertEqual(left, right)
        let settled = Array(left.dropFirst(resampler.latencySamples + 960))
        XCTAssertEqual(goertzelAmplitude(settled, frequency: 1000, sampleRate: 48_000), 0.5, accuracy: 0.01)
        XCTAssertEqual(Double(risingZeroCrossings(settled)), 1000 * Double(settled.count) / 48_000, accuracy: 2)
    }

    func testFrameCountsStayExactOverManyFrames() throws {
        for (inRate, outRate) in [
            (44_100, 48_000), (48_000, 44_100), (16_000, 48_000), (48_000, 16_000), (8_000, 24_000), (32_000, 24_000),
        ] {
            let resampler = try Resampler(
                inputRate: inRate, inputChannels: 1, outputRate: outRate, outputChannels: 1, quality: 3)
            let input = tone(frequency: 440, sampleRate: inRate, frames: inRate / 50 * 500, channels: 1)
            let (output, counts) = resampleFrames(resampler, input)
            XCTAssertEqual(output.count, outRate / 50 * 500, "\(inRate) -> \(outRate)")
            XCTAssertEqual(Set(counts), [outRate / 50], "\(inRate) -> \(outRate)")
            XCTAssertEqual(resampler.droppedSamples, 0)
        }
    }

    func testSkipZerosAlignsOutputAndFlushReturnsTail() throws {
        let resampler = try Resampler(
            inputRate: 48_000, inputChannels: 1, outputRate: 24_000, outputChannels: 1, skipZeros: true)
        XCTAssertEqual(resampler.latencySamples, 0)
        let input = tone(frequency: 700, sampleRate: 48_000, frames: 960 * 20, channels: 1)
        var (output, counts) = resampleFrames(resampler, input)
        XCTAssertEqual(counts.first, 480 - resampler.filterLatencySamples)
        XCTAssertEqual(Set(counts.dropFirst()), [480])
        var tail = [Float](repeating: 0, count: 1024)
        let n = tail.withUnsafeMutableBufferPointer { resampler.flush(output: $0) }
        output += tail[0..<n]
        XCTAssertEqual(output.count, 480 * 20)
        let reference = tone(frequency: 700, sampleRate: 24_000, frames: output.count, channels: 1)
        XCTAssertGreaterThan(correlation(reference, output), 0.999)
    }

    func testOddSizedInputsAndSmallOutputBuffersLoseNothing() throws {
        let resampler = try Resampler(inputRate: 48_000, inputChannels: 2, outputRate: 16_000, outputChannels: 2)
        let input = tone(frequency: 300, sampleRate: 48_000, frames: 48_000, channels: 2)
        var output: [Float] = []
        var out = [Float](repeating: 0, count: 400)
        input.withUnsafeBufferPointer { all in
            var start = 0, step = 1
            while start < all.count {
                let end = min(all.count, start + 2 * (step % 997 + 1))
                let n = out.withUnsafeMutableBufferPointer {
                    resampler.process(input: UnsafeBufferPointer(rebasing: all[start..<end]), output: $0)
                }
                output += out[0..<n]
                start = end
                step += 131
            }
        }
        while true {
            let n = out.withUnsafeMutableBufferPointer {
                resampler.process(input: UnsafeBufferPointer(start: nil, count: 0), output: $0)
            }
            if n == 0 { break }
            output += out[0..<n]
        }
        XCTAssertEqual(output.count, 16_000 * 2)
        XCTAssertEqual(resampler.droppedSamples, 0)
    }

    func testEqualRatesOnlyRemix() throws {
        let resampler = try Resampler(inputRate: 48_000, inputChannels: 2, outputRate: 48_000, outputChannels: 1)
        XCTAssertEqual(resampler.latencySamples, 0)
        let input: [Float] = [0.2, 0.4, -1, 1]
        var out = [Float](repeating: 9, count: 4)
        let n = input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { resampler.process(input: i, output: $0) }
        }
        XCTAssertEqual(n, 2)
        XCTAssertEqual(out[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(out[1], 0, accuracy: 1e-6)
    }

    func testChannelMixerRules() throws {
        let input: [Float] = [1, 2, 3, 4, 5, 6]  // two frames of three channels
        func mix(_ inCh: Int, _ outCh: Int, _ samples: [Float]) throws -> [Float] {
            let mixer = try ChannelMixer(inputChannels: inCh, outputChannels: outCh)
            let frames = samples.count / inCh
            var out = [Float](repeating: 0, count: frames * outCh)
            samples.withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { mixer.mix(i, into: $0, frames: frames) }
            }
            return out
        }
        XCTAssertEqual(try mix(3, 1, input), [2, 5])
        XCTAssertEqual(try mix(3, 2, input), [2, 2, 5, 5])
        XCTAssertEqual(try mix(1, 3, [7, 8]), [7, 7, 7, 8, 8, 8])
        XCTAssertEqual(try mix(2, 3, [1, 2]), [1, 2, 1])
        XCTAssertThrowsError(try ChannelMixer(inputChannels: 0, outputChannels: 1))
        XCTAssertThrowsError(
            try Resampler(inputRate: 48_000, inputChannels: 1, outputRate: 24_000, outputChannels: 1, quality: 11))
    }
}
