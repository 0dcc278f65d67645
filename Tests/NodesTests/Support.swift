import Codecs
import Foundation
import Nodes
import RouterCore
import Synchronization
import XCTest

// MARK: - Signals

enum Signal {
    /// A sine tone, identical on every channel.
    static func tone(_ frequency: Double, rate: Int, frames: Int, channels: Int = 1, amplitude: Double = 0.5) -> [Float]
    {
        var out = [Float](repeating: 0, count: frames * channels)
        for n in 0..<frames {
            let v = Float(amplitude * sin(2 * .pi * frequency * Double(n) / Double(rate)))
            for c in 0..<channels { out[n * channels + c] = v }
        }
        return out
    }

    /// Speech-like test signal: harmonics (1/k) of a fundamental gliding between 100 and 200 Hz, band-limited to
    /// 3.6 kHz, with syllable-rate (4 Hz) amplitude modulation that never quite reaches zero. Identical on every channel.
    static func speechLike(rate: Int, frames: Int, channels: Int = 1, amplitude: Double = 0.3) -> [Float] {
        var out = [Float](repeating: 0, count: frames * channels)
        var phase = 0.0
        for n in 0..<frames {
            let t = Double(n) / Double(rate)
            let f0 = 150 + 50 * sin(2 * .pi * 0.7 * t)
            phase += 2 * .pi * f0 / Double(rate)
            var v = 0.0
            var k = 1
            while Double(k) * f0 < min(3600, Double(rate) / 2 - 400) && k <= 20 {
                v += sin(Double(k) * phase) / Double(k)
                k += 1
            }
            let syllable = 0.15 + 0.85 * pow(max(0, sin(2 * .pi * 4 * t)), 0.6)
            let s = Float(amplitude * syllable * v / 2.2)
            for c in 0..<channels { out[n * channels + c] = s }
        }
        return out
    }

    /// Deterministic pseudo-random numbers (xorshift64*), so tests are repeatable.
    struct Random {
        var state: UInt64
        init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        /// Uniform in 0..<bound.
        mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        /// Uniform in -1...1.
        mutating func unit() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }
    }
}

// MARK: - Analysis

enum Analysis {
    /// Amplitude of the `frequency` component (Goertzel).
    static func goertzel(_ x: ArraySlice<Float>, frequency: Double, rate: Int) -> Double {
        let w = 2 * Double.pi * frequency / Double(rate)
        let coefficient = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0
        for sample in x {
            let s0 = Double(sample) + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = max(0, s1 * s1 + s2 * s2 - coefficient * s1 * s2)
        return 2 * power.squareRoot() / Double(max(1, x.count))
    }

    static func goertzel(_ x: [Float], frequency: Double, rate: Int) -> Double {
        goertzel(x[...], frequency: frequency, rate: rate)
    }

    static func rms(_ x: ArraySlice<Float>) -> Double {
        guard !x.isEmpty else { return 0 }
        var s = 0.0
        for v in x { s += Double(v) * Double(v) }
        return (s / Double(x.count)).squareRoot()
    }

    static func peak(_ x: [Float]) -> Float { x.reduce(0) { max($0, abs($1)) } }

    /// One channel of interleaved audio.
    static func channel(_ x: [Float], _ index: Int, of channels: Int) -> [Float] {
        stride(from: index, to: x.count, by: channels).map { x[$0] }
    }

    /// Every `factor`-th sample starting at 0.
    static func decimate(_ x: [Float], by factor: Int) -> [Float] {
        stride(from: 0, to: x.count, by: factor).map { x[$0] }
    }

    /// Normalised correlation of a[i] with b[i + lag] for i in `window` (clipped to valid indices).
    static func correlation(_ a: [Float], _ b: [Float], lag: Int = 0, window: Range<Int>? = nil) -> Double {
        let w = window ?? 0..<a.count
        let lo = max(w.lowerBound, 0, -lag), hi = min(w.upperBound, a.count, b.count - lag)
        guard hi > lo else { return 0 }
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                var sab = 0.0, saa = 0.0, sbb = 0.0
                for i in lo..<hi {
                    let x = Double(pa[i]), y = Double(pb[i + lag])
                    sab += x * y
                    saa += x * x
                    sbb += y * y
                }
                guard saa > 0, sbb > 0 else { return 0 }
                return sab / (saa * sbb).squareRoot()
            }
        }
    }

    /// The lag in `range` at which `b` best matches `a` (b[i + lag] ~ a[i]), judged on a window in the middle of `a`.
    static func bestLag(_ a: [Float], _ b: [Float], in range: ClosedRange<Int>, windowLength: Int = 9600) -> (
        lag: Int, correlation: Double
    ) {
        let length = min(windowLength, a.count)
        let start = max(0, a.count / 2 - length / 2)
        let window = start..<(start + length)
        var best = (lag: range.lowerBound, correlation: -2.0)
        for lag in range {
            let c = correlation(a, b, lag: lag, window: window)
            if c > best.correlation { best = (lag, c) }
        }
        return best
    }
}

// MARK: - Files and tools

enum TestFiles {
    /// A fresh temporary directory, removed when the test ends.
    static func directory(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nodes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Writes samples with the codec library's writer.
    static func writeWAV(
        _ path: String, _ samples: [Float], rate: Int, channels: Int, encoding: WAVSampleEncoding = .pcm16
    ) throws {
        let writer = try WAVWriter(
            path: path, format: WAVFormat(sampleRate: rate, channels: channels, encoding: encoding))
        try samples.withUnsafeBufferPointer { try writer.write($0) }
        try writer.close()
    }

    /// A 16-bit PCM WAV built byte by byte here (independent of Codecs), from integer samples.
    static func wav16Bytes(_ samples: [Int16], rate: Int, channels: Int) -> [UInt8] {
        var b: [UInt8] = []
        func u32(_ v: UInt32) { for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        func u16(_ v: UInt16) {
            b.append(UInt8(v & 0xff))
            b.append(UInt8(v >> 8))
        }
        let dataBytes = samples.count * 2
        b += Array("RIFF".utf8)
        u32(UInt32(36 + dataBytes))
        b += Array("WAVE".utf8)
        b += Array("fmt ".utf8)
        u32(16)
        u16(1)
        u16(UInt16(channels))
        u32(UInt32(rate))
        u32(UInt32(rate * channels * 2))
        u16(UInt16(channels * 2))
        u16(16)
        b += Array("data".utf8)
        u32(UInt32(dataBytes))
        for s in samples { u16(UInt16(bitPattern: s)) }
        return b
    }

    /// Parses a WAV file's header independently: format tag, channels, rate, bits, and the data chunk.
    static func parseWAV(_ bytes: [UInt8]) -> (
        tag: Int, channels: Int, rate: Int, bits: Int, riffSize: Int, data: ArraySlice<UInt8>
    )? {
        func u32(_ o: Int) -> Int {
            Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 3]) << 24
        }
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8)
        else { return nil }
        var o = 12
        var fmt: (Int, Int, Int, Int)?
        while o + 8 <= bytes.count {
            let size = u32(o + 4)
            if bytes[o..<(o + 4)].elementsEqual("fmt ".utf8) {
                var tag = u16(o + 8)
                if tag == 0xFFFE { tag = u16(o + 8 + 24) }
                fmt = (tag, u16(o + 10), u32(o + 12), u16(o + 22))
            } else if bytes[o..<(o + 4)].elementsEqual("data".utf8), let f = fmt {
                guard o + 8 + size <= bytes.count else { return nil }
                return (f.0, f.1, f.2, f.3, u32(4), bytes[(o + 8)..<(o + 8 + size)])
            }
            o += 8 + size + (size & 1)
        }
        return nil
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// Samples of a WAV file read with the codec library.
    static func readWAV(_ path: String) throws -> (format: WAVFormat, samples: [Float]) {
        try WAVReader.read(path: path)
    }

    /// The repository root (this file is Tests/NodesTests/Support.swift).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }
}

struct ToolMissing: Error, CustomStringConvertible {
    var name: String
    var description: String {
        "\(name) is not installed; it is an independent check of this suite. Run `bash scripts/setup.sh` (installs opus-tools and sox)."
    }
}

enum Tools {
    /// Path of an installed tool; a missing tool fails the test with a clear message (never a silent skip).
    static func path(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"]
        where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        XCTFail(ToolMissing(name: name).description)
        throw ToolMissing(name: name)
    }

    /// Runs a tool; returns its exit status and combined output.
    @discardableResult
    static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path(name))
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `opusinfo` must exit 0 and print no WARNING or ERROR line. Returns its output.
    @discardableResult
    static func assertOpusinfoClean(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> String
    {
        let (status, output) = try run("opusinfo", [path])
        XCTAssertEqual(status, 0, "opusinfo exit status; output:\n\(output)", file: file, line: line)
        let bad = output.split(separator: "\n").filter {
            $0.uppercased().contains("WARNING") || $0.uppercased().contains("ERROR")
        }
        XCTAssertTrue(
            bad.isEmpty, "opusinfo complained:\n\(bad.joined(separator: "\n"))\n--- full output:\n\(output)",
            file: file, line: line)
        return output
    }

    /// Decodes with `opusdec` to a float WAV at `rate`; returns the samples and channel count.
    static func opusdec(_ path: String, rate: Int, in dir: URL) throws -> (channels: Int, samples: [Float]) {
        let out = dir.appendingPathComponent("opusdec-\(UUID().uuidString).wav").path
        let (status, output) = try run("opusdec", ["--quiet", "--float", "--rate", String(rate), path, out])
        guard status == 0 else {
            XCTFail("opusdec failed (\(status)): \(output)")
            throw NodeError("opusdec failed")
        }
        let (format, samples) = try TestFiles.readWAV(out)
        XCTAssertEqual(format.sampleRate, rate)
        return (format.channels, samples)
    }
}

/// Splits interleaved audio into 20 ms frames of `samplesPerFrame`, zero-padding the last.
func frames(of samples: [Float], samplesPerFrame n: Int) -> [[Float]] {
    stride(from: 0, to: samples.count, by: n).map { start in
        var f = Array(samples[start..<min(start + n, samples.count)])
        if f.count < n { f += [Float](repeating: 0, count: n - f.count) }
        return f
    }
}

/// Runs `body` with the router log captured instead of printed; returns the lines written meanwhile (all of them,
/// queued ones included).
func captureLog(_ body: () throws -> Void) rethrows -> [String] {
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
    }
    let lines = Lines()
    RouterLog.shared.setSink { line in lines.all.withLock { $0.append(line) } }
    defer { RouterLog.shared.setSink { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
    try body()
    RouterLog.shared.flush()
    return lines.all.withLock { $0 }
}

/// Quiets the router log during a test (warnings and errors are still shown).
func quietLog(_ test: XCTestCase) {
    let before = RouterLog.shared.level
    RouterLog.shared.level = .warning
    test.addTeardownBlock { RouterLog.shared.level = before }
}
