import Codecs
import Foundation
import Nodes
import RouterCore
import XCTest

final class ResampleTests: XCTestCase {
    override func setUp() { quietLog(self) }

    struct Run {
        var output: [Float]
        /// Per tick: whether an output frame was produced.
        var present: [Bool]
        var inputTicks: Int
    }

    /// Feeds `input` one 20 ms frame per tick, ends the input, and ticks until the node is drained.
    private func resample(_ input: [Float], from: PCMFormat, to: PCMFormat, compensate: Bool = true, quality: Int = 5)
        throws -> Run
    {
        let h = try NodeHarness<Resample>(
            params: [
                "rate": String(to.sampleRate), "channels": String(to.channels),
                "compensate_delay": String(compensate), "quality": String(quality),
            ],
            inputs: ["in": .pcm(from)])
        var run = Run(output: [], present: [], inputTicks: 0)
        func collect() {
            if let f = h.pcmOutput().frame {
                run.output += f
                run.present.append(true)
            } else {
                run.present.append(false)
            }
        }
        for f in frames(of: input, samplesPerFrame: from.samplesPerFrame) {
            h.pcmInput().write { _ = $0.update(fromContentsOf: f) }
            try h.tick()
            collect()
            run.inputTicks += 1
        }
        h.endInput()
        var extra = 0
        repeat {
            try h.tick()
            collect()
            extra += 1
        } while !h.node.isDrained && extra < 10
        XCTAssertTrue(h.node.isDrained)
        try h.tick()
        XCTAssertNil(h.pcmOutput().frame, "nothing after the drain")
        return run
    }

    func testDownmix48kStereoTo24kMonoKeepsToneFrequencyAndLevel() throws {
        let input = Signal.tone(1000, rate: 48_000, frames: 48_000, channels: 2, amplitude: 0.5)
        let run = try resample(input, from: .discord, to: .personaPlex)
        let steady = run.output[2400..<21600]
        XCTAssertEqual(Analysis.goertzel(steady, frequency: 1000, rate: 24_000), 0.5, accuracy: 0.01)
        XCTAssertLessThan(Analysis.goertzel(steady, frequency: 2000, rate: 24_000), 0.005)
        XCTAssertLessThan(Analysis.goertzel(steady, frequency: 500, rate: 24_000), 0.005)
        // Down-mix averages: a tone on the left only comes out at half level.
        var leftOnly = input
        for i in stride(from: 1, to: leftOnly.count, by: 2) { leftOnly[i] = 0 }
        let half = try resample(leftOnly, from: .discord, to: .personaPlex)
        XCTAssertEqual(
            Analysis.goertzel(half.output[2400..<21600], frequency: 1000, rate: 24_000), 0.25, accuracy: 0.005)
    }

    func testUpmix24kMonoTo48kStereoKeepsToneFrequencyAndLevel() throws {
        let input = Signal.tone(440, rate: 24_000, frames: 24_000, amplitude: 0.4)
        let run = try resample(input, from: .personaPlex, to: .discord)
        let left = Analysis.channel(run.output, 0, of: 2), right = Analysis.channel(run.output, 1, of: 2)
        XCTAssertEqual(left, right, "up-mix copies the channel")
        XCTAssertEqual(Analysis.goertzel(left[4800..<43200], frequency: 440, rate: 48_000), 0.4, accuracy: 0.008)
        XCTAssertLessThan(Analysis.goertzel(left[4800..<43200], frequency: 880, rate: 48_000), 0.004)
    }

    /// Over many ticks each tick yields exactly one frame (after the first, with delay compensation), nothing is lost
    /// at the end, and samples out == samples in × rate ratio, for several conversions.
    func testExactFrameCountsAndNothingLostAtEnd() throws {
        let cases: [(PCMFormat, PCMFormat)] = [
            (.discord, .personaPlex), (.personaPlex, .discord),
            (PCMFormat(sampleRate: 44_100, channels: 2), .discord),
            (PCMFormat(sampleRate: 16_000, channels: 1), .personaPlex),
            (.discord, PCMFormat(sampleRate: 48_000, channels: 1)),
        ]
        let ticks = 500
        for (from, to) in cases {
            let input = Signal.speechLike(
                rate: from.sampleRate, frames: ticks * from.samplesPerChannel, channels: from.channels)
            let run = try resample(input, from: from, to: to)
            let label = "\(from) -> \(to)"
            XCTAssertEqual(run.output.count, ticks * to.samplesPerFrame, "\(label): samples out == in × ratio")
            let frames = run.present.filter { $0 }.count
            XCTAssertEqual(frames, ticks, label)
            // Output is continuous: once it starts there is a frame every tick until the end.
            let first = try XCTUnwrap(run.present.firstIndex(of: true))
            XCTAssertLessThanOrEqual(first, 1, "\(label): first frame at most one tick late")
            XCTAssertTrue(run.present[first..<(first + ticks)].allSatisfy { $0 }, "\(label): no gap mid-stream")
        }
    }

    /// With compensate_delay the output lines up with the input (cross-correlation peak at lag 0), and the last
    /// input samples are in the output tail (flushed, not zeros). Without it, the output lags by the filter delay.
    func testCompensatedDelayIsTimeAligned() throws {
        // 48 kHz -> 24 kHz: compare with the input decimated by 2 (the signal is band-limited to 3.6 kHz).
        let input48 = Signal.speechLike(rate: 48_000, frames: 48_000)
        let mono48 = PCMFormat(sampleRate: 48_000, channels: 1)
        let reference24 = Analysis.decimate(input48, by: 2)
        let down = try resample(input48, from: mono48, to: .personaPlex)
        let best = Analysis.bestLag(reference24, down.output, in: -60...60)
        XCTAssertEqual(best.lag, 0, "48k -> 24k lag")
        XCTAssertGreaterThan(best.correlation, 0.99)
        // The tail: the last 10 ms carry the input's last 10 ms.
        let tail = (reference24.count - 240)..<reference24.count
        XCTAssertGreaterThan(Analysis.correlation(reference24, down.output, window: tail), 0.95, "tail flushed")

        // 24 kHz -> 48 kHz stereo: compare every other output sample with the input.
        let input24 = Signal.speechLike(rate: 24_000, frames: 24_000)
        let up = try resample(input24, from: .personaPlex, to: .discord)
        let upLeft = Analysis.decimate(Analysis.channel(up.output, 0, of: 2), by: 2)
        let bestUp = Analysis.bestLag(input24, upLeft, in: -60...60)
        XCTAssertEqual(bestUp.lag, 0, "24k -> 48k lag")
        XCTAssertGreaterThan(bestUp.correlation, 0.99)
        XCTAssertGreaterThan(
            Analysis.correlation(input24, upLeft, window: (input24.count - 240)..<input24.count), 0.95, "tail flushed")

        // Control: without compensation the same measurement finds the filter delay, so the check above can fail.
        let raw = try resample(input48, from: mono48, to: .personaPlex, compensate: false)
        let latency = try Resampler(inputRate: 48_000, inputChannels: 1, outputRate: 24_000, outputChannels: 1)
            .filterLatencySamples
        XCTAssertGreaterThan(latency, 0)
        XCTAssertEqual(Analysis.bestLag(reference24, raw.output, in: -60...60).lag, latency)
    }

    /// 11025 Hz is not a whole number of samples per 20 ms: the converter makes 220.5 samples per tick while the node
    /// sends 220, so its buffer fills by half a sample per tick and, after minutes, overflows. What it drops is
    /// counted in the node's drops (in output frames), not lost silently.
    /// The node validates rates to multiples of 50 Hz, so its lane can no longer overflow the converter; the converter
    /// itself (which the node reports in `metrics.drops`) still counts what its buffer had no room for: at 11025 Hz a
    /// 20 ms read takes 220 samples of the 220.5 made, so the surplus fills the buffer and is then dropped.
    func testConverterOverflowIsCountedAsDroppedSamples() throws {
        let resampler = try Resampler(inputRate: 48_000, inputChannels: 1, outputRate: 11_025, outputChannels: 1)
        let tone = Signal.tone(1000, rate: 48_000, frames: 960)  // exactly 20 cycles: repeats seamlessly
        var out = [Float](repeating: 0, count: 220)
        var droppedAt10000 = -1
        for t in 0..<14_000 {
            tone.withUnsafeBufferPointer {
                _ = resampler.process(input: $0, output: UnsafeMutableBufferPointer(start: nil, count: 0))
            }
            let n = out.withUnsafeMutableBufferPointer {
                resampler.process(input: UnsafeBufferPointer(start: nil, count: 0), output: $0)
            }
            if t > 0 && n != 220 {
                XCTFail("short read \(n) in call \(t)")
                break
            }
            if t == 10_000 { droppedAt10000 = resampler.droppedSamples }
        }
        XCTAssertEqual(
            droppedAt10000, 0, "the buffer (about 5,600 samples) lasts over 10,000 calls at half a sample each")
        // 14,000 calls × 0.5 = 7,000 surplus samples, minus the buffer: about 1,400-1,700 samples dropped.
        XCTAssertTrue((1_200...1_900).contains(resampler.droppedSamples), "dropped: \(resampler.droppedSamples)")
    }

    func testElevenKilohertzIsRefusedAtCheckTime() {
        XCTAssertThrowsError(
            try NodeHarness<Resample>(
                params: ["rate": "11025", "channels": "1"],
                inputs: ["in": .pcm(PCMFormat(sampleRate: 48_000, channels: 1))]))
    }
}
