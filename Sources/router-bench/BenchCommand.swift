import ArgumentParser
import CAllocCounter
import Codecs
import Foundation
import Nodes
import Realtime
import RouterCore

/// `router-bench nodes`: per-node cost inside the engine beside the bare library call on the same frames, interleaved in
/// one run (shared machines are noisy, so only ratios within a run mean much), plus heap allocations per frame.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "Measure per-node cost against the bare library calls, and allocations per frame.",
        discussion: """
            Build with -c release for meaningful numbers: swift build -c release --product router-bench && \
            .build/release/router-bench nodes (or make bench)
            """
    )

    @Option(help: "Frames (20 ms each) measured per case.")
    var frames: Int = 3000

    @Option(help: "Pipeline files whose `router check` time is measured too.")
    var pipelines: [String] = []

    func run() throws {
        #if DEBUG
            print("note: this is a debug build; use `swift build -c release` for meaningful figures")
        #endif
        guard (10...1_000_000).contains(frames) else { throw ValidationError("--frames must be in 10...1000000") }
        // Long enough for every case: the decode case also needs its warm-up and allocation-count ticks without wrapping.
        let signal = BenchSignal(frames: frames + 700)
        var rows: [BenchRow] = []
        rows.append(try BenchCases.mixer(signal, frames: frames))
        rows.append(try BenchCases.resample(signal, frames: frames))
        rows.append(try BenchCases.encode(signal, frames: frames))
        rows.append(try BenchCases.decode(signal, frames: frames))
        print(BenchRow.table(rows))
        for row in rows { print("  bare for \(row.name): \(row.bareCall)") }
        let met = rows.filter(\.meetsTarget).count
        print(
            "engine overhead target (p50 ≤ \(Int(BenchRow.overheadTarget * 100)) % over the bare call): \(met) of \(rows.count) nodes met it"
        )
        print(
            "allocations counted: \(alloc_counter_active() != 0 ? "yes (malloc interposer active)" : "no (interposer inactive on this platform)")"
        )
        if !pipelines.isEmpty && !CheckTiming.run(pipelines: pipelines, envFile: ".env") { throw ExitCode(1) }
    }
}

/// `router check` wall time on pipeline files: the validator in process (median), and the whole CLI as a subprocess
/// (process start included; the `router` built next to this executable). A file that does not validate fails loudly:
/// timing a failure would mean nothing.
enum CheckTiming {
    /// Prints the timing rows; false if any file failed validation or the subprocess failed.
    static func run(pipelines: [String], envFile: String) -> Bool {
        let environment: PipelineEnvironment
        do { environment = try PipelineEnvironment.load(dotEnvPath: envFile) } catch {
            print("check: FAILED — cannot read \(envFile): \(error)")
            return false
        }
        let validator = PipelineValidator(registry: .standard)
        var ok = true
        for file in pipelines {
            var times: [Int64] = []
            do {
                for _ in 0..<21 {
                    let t0 = benchNanoseconds()
                    _ = try validator.load(path: file, environment: environment)
                    times.append(benchNanoseconds() - t0)
                }
                print("check \(file): \(milliseconds(median(times))) ms (median of 21, in process)")
            } catch {
                print("check \(file): FAILED — it does not validate:\n\(error)")
                ok = false
            }
        }
        guard ok else { return false }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("router")
        var times: [Int64] = []
        for _ in 0..<11 {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["check", "--env-file", envFile] + pipelines
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            let t0 = benchNanoseconds()
            do { try process.run() } catch {
                print("check (subprocess): FAILED — cannot start \(executable.path): \(error)")
                return false
            }
            let stderr = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            times.append(benchNanoseconds() - t0)
            guard process.terminationStatus == 0 else {
                print(
                    "check (subprocess): FAILED — `router check` exited \(process.terminationStatus):\n\(String(decoding: stderr, as: UTF8.self))"
                )
                return false
            }
        }
        print(
            "router check \(pipelines.joined(separator: " ")): \(milliseconds(median(times))) ms (median of 11, whole CLI as a subprocess)"
        )
        return true
    }

    static func median(_ values: [Int64]) -> Int64 { values.sorted()[values.count / 2] }
    static func milliseconds(_ ns: Int64) -> String { String(format: "%.2f", Double(ns) / 1e6) }
}

/// A speech-like test signal: harmonics of a gliding fundamental with syllable-rate amplitude modulation.
struct BenchSignal {
    let stereo48k: [Float]
    let mono24k: [Float]

    init(frames: Int) {
        func render(rate: Int, channels: Int) -> [Float] {
            let n = frames * rate / Tick.perSecond
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
    /// The issue's target: the engine costs at most 10 % more than the bare call (compared at p50).
    static let overheadTarget = 0.10

    var name: String
    /// What the bare column measures: the library calls doing the node's work without the engine.
    var bareCall: String
    var engine: [Int64]
    var bare: [Int64]
    var allocationsPerFrame: Double

    init(name: String, bareCall: String, engine: [Int64], bare: [Int64], allocationsPerFrame: Double) {
        self.name = name
        self.bareCall = bareCall
        self.engine = engine.sorted()
        self.bare = bare.sorted()
        self.allocationsPerFrame = allocationsPerFrame
    }

    /// Engine p50 over bare p50, minus one.
    var overhead: Double { Double(Self.percentile(engine, 0.5)) / Double(max(1, Self.percentile(bare, 0.5))) - 1 }
    var meetsTarget: Bool { overhead <= Self.overheadTarget }

    static func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func table(_ rows: [BenchRow]) -> String {
        func us(_ ns: Int64) -> String { String(format: "%.2f", Double(ns) / 1000) }
        var lines = [
            "case                            engine p50/p99 µs   bare p50/p99 µs   overhead p50   ≤10 %   allocs/frame"
        ]
        for r in rows {
            lines.append(
                r.name.padded(32) + "\(us(percentile(r.engine, 0.5)))/\(us(percentile(r.engine, 0.99)))".padded(20)
                    + "\(us(percentile(r.bare, 0.5)))/\(us(percentile(r.bare, 0.99)))".padded(18)
                    + String(format: "%+.1f %%", r.overhead * 100).padded(15)
                    + (r.meetsTarget ? "PASS" : "FAIL").padded(8)
                    + String(format: "%.3f", r.allocationsPerFrame))
        }
        return lines.joined(separator: "\n")
    }
}

/// Now on the system clock as a signed count, so tick-time differences (engine less feeds) may go negative.
@inline(__always)
func benchNanoseconds() -> Int64 { Int64(truncatingIfNeeded: SystemClock.now()) }

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
