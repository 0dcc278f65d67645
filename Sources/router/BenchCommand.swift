import ArgumentParser
import CAllocCounter
import Codecs
import Foundation
import Nodes
import RouterCore

/// `router bench`: per-node cost inside the engine beside the bare library call on the same frames, interleaved in
/// one run (shared machines are noisy, so only ratios within a run mean much), plus heap allocations per frame.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure per-node cost against the bare library calls, and allocations per frame.",
        discussion: "Build with -c release for meaningful numbers: swift build -c release && .build/release/router bench"
    )

    @Option(help: "Frames (20 ms each) measured per case.")
    var frames: Int = 3000

    @Option(help: "Pipeline files whose `router check` time is measured too.")
    var pipelines: [String] = []

    func run() throws {
        #if DEBUG
        print("note: this is a debug build; use `swift build -c release` for meaningful figures")
        #endif
        let signal = BenchSignal(frames: frames + 100)
        var rows: [BenchRow] = []
        rows.append(try BenchCases.mixer(signal, frames: frames))
        rows.append(try BenchCases.resample(signal, frames: frames))
        rows.append(try BenchCases.encode(signal, frames: frames))
        rows.append(try BenchCases.decode(signal, frames: frames))
        print(BenchRow.table(rows))
        print("allocations counted: \(alloc_counter_active() != 0 ? "yes (malloc interposer active)" : "no (interposer inactive on this platform)")")
        if !pipelines.isEmpty {
            let environment = try PipelineEnvironment.load(dotEnvPath: ".env")
            let validator = PipelineValidator(registry: .standard)
            for file in pipelines {
                var best = Int64.max
                for _ in 0..<20 {
                    let t0 = monotonicNanoseconds()
                    _ = try? validator.load(path: file, environment: environment)
                    best = min(best, monotonicNanoseconds() - t0)
                }
                print("check \(file): \(String(format: "%.2f", Double(best) / 1e6)) ms (best of 20, in process)")
            }
        }
    }
}

/// A speech-like test signal: harmonics of a gliding fundamental with syllable-rate amplitude modulation.
struct BenchSignal {
    let stereo48k: [Float]
    let mono24k: [Float]

    init(frames: Int) {
        func render(rate: Int, channels: Int) -> [Float] {
            let n = frames * rate / 50
            var out = [Float](repeating: 0, count: n * channels)
            var phase = 0.0
            for i in 0..<n {
                let t = Double(i) / Double(rate)
                let f0 = 140 + 30 * sin(2 * .pi * 0.7 * t)
                phase += 2 * .pi * f0 / Double(rate)
                var v = 0.0
                for h in 1...6 { v += sin(phase * Double(h)) / Double(h) }
                let envelope = 0.5 + 0.5 * sin(2 * .pi * 4 * t)
                let s = Float(0.25 * envelope * v)
                for c in 0..<channels { out[i * channels + c] = s }
            }
            return out
        }
        stereo48k = render(rate: 48_000, channels: 2)
        mono24k = render(rate: 24_000, channels: 1)
    }
}

/// One line of the bench table: exact percentiles of per-frame times (nanoseconds), engine and bare, same frames.
struct BenchRow {
    var name: String
    var engine: [Int64]
    var bare: [Int64]
    var allocationsPerFrame: Double

    init(name: String, engine: [Int64], bare: [Int64], allocationsPerFrame: Double) {
        self.name = name
        self.engine = engine.sorted()
        self.bare = bare.sorted()
        self.allocationsPerFrame = allocationsPerFrame
    }

    static func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func table(_ rows: [BenchRow]) -> String {
        func us(_ ns: Int64) -> String { String(format: "%.2f", Double(ns) / 1000) }
        var lines = ["case                            engine p50/p99 µs   bare p50/p99 µs   overhead p50   allocs/frame"]
        for r in rows {
            let e50 = percentile(r.engine, 0.5), b50 = percentile(r.bare, 0.5)
            let overhead = Double(e50) / Double(max(1, b50)) - 1
            lines.append(r.name.padded(32) + "\(us(e50))/\(us(percentile(r.engine, 0.99)))".padded(20)
                + "\(us(b50))/\(us(percentile(r.bare, 0.99)))".padded(18)
                + String(format: "%+.1f %%", overhead * 100).padded(15) + String(format: "%.3f", r.allocationsPerFrame))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padded(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
