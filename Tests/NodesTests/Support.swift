import Codecs
import Foundation
import Nodes
import RouterCore
import XCTest

// MARK: - Signals

enum Signal {
    /// A sine tone, identical on every channel.
    static func tone(_ frequency: Double, rate: Int, frames: Int, channels: Int = 1, amplitude: Double = 0.5) -> [Float] {
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
                    sab += x * y; saa += x * x; sbb += y * y
                }
                guard saa > 0, sbb > 0 else { return 0 }
                return sab / (saa * sbb).squareRoot()
            }
        }
    }

    /// The lag in `range` at which `b` best matches `a` (b[i + lag] ~ a[i]), judged on a window in the middle of `a`.
    static func bestLag(_ a: [Float], _ b: [Float], in range: ClosedRange<Int>, windowLength: Int = 9600) -> (lag: Int, correlation: Double) {
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
    static func writeWAV(_ path: String, _ samples: [Float], rate: Int, channels: Int, encoding: WAVSampleEncoding = .pcm16) throws {
        let writer = try WAVWriter(path: path, format: WAVFormat(sampleRate: rate, channels: channels, encoding: encoding))
        try samples.withUnsafeBufferPointer { try writer.write($0) }
        try writer.close()
    }

    /// A 16-bit PCM WAV built byte by byte here (independent of Codecs), from integer samples.
    static func wav16Bytes(_ samples: [Int16], rate: Int, channels: Int) -> [UInt8] {
        var b: [UInt8] = []
        func u32(_ v: UInt32) { for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        func u16(_ v: UInt16) { b.append(UInt8(v & 0xff)); b.append(UInt8(v >> 8)) }
        let dataBytes = samples.count * 2
        b += Array("RIFF".utf8); u32(UInt32(36 + dataBytes)); b += Array("WAVE".utf8)
        b += Array("fmt ".utf8); u32(16); u16(1); u16(UInt16(channels)); u32(UInt32(rate))
        u32(UInt32(rate * channels * 2)); u16(UInt16(channels * 2)); u16(16)
        b += Array("data".utf8); u32(UInt32(dataBytes))
        for s in samples { u16(UInt16(bitPattern: s)) }
        return b
    }

    /// Parses a WAV file's header independently: format tag, channels, rate, bits, and the data chunk.
    static func parseWAV(_ bytes: [UInt8]) -> (tag: Int, channels: Int, rate: Int, bits: Int, riffSize: Int, data: ArraySlice<UInt8>)? {
        func u32(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 3]) << 24 }
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else { return nil }
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
    static func readWAV(_ path: String) throws -> (format: WAVFormat, samples: [Float]) { try WAVReader.read(path: path) }

    /// The repository root (this file is Tests/NodesTests/Support.swift).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
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
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
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
    static func assertOpusinfoClean(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let (status, output) = try run("opusinfo", [path])
        XCTAssertEqual(status, 0, "opusinfo exit status; output:\n\(output)", file: file, line: line)
        let bad = output.split(separator: "\n").filter { $0.uppercased().contains("WARNING") || $0.uppercased().contains("ERROR") }
        XCTAssertTrue(bad.isEmpty, "opusinfo complained:\n\(bad.joined(separator: "\n"))\n--- full output:\n\(output)", file: file, line: line)
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

// MARK: - Ogg, parsed independently of libogg

struct OggPage {
    var headerType: UInt8
    var granule: Int64
    var serial: UInt32
    var sequence: UInt32
    var storedCRC: UInt32
    var computedCRC: UInt32
    var lacing: [UInt8]
    var body: [UInt8]
    var isBOS: Bool { headerType & 2 != 0 }
    var isEOS: Bool { headerType & 4 != 0 }
    var isContinued: Bool { headerType & 1 != 0 }
    /// Packets that end on this page (lacing value < 255).
    var completedPackets: Int { lacing.filter { $0 < 255 }.count }
}

enum Ogg {
    static let crcTable: [UInt32] = (0..<256).map { i -> UInt32 in
        var r = UInt32(i) << 24
        for _ in 0..<8 { r = r & 0x8000_0000 != 0 ? (r << 1) ^ 0x04C1_1DB7 : r << 1 }
        return r
    }

    /// The Ogg CRC-32 (polynomial 0x04c11db7, no reflection, initial 0) of a page whose CRC field is zero.
    static func crc(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0
        for b in bytes { crc = (crc << 8) ^ crcTable[Int(((crc >> 24) & 0xff) ^ UInt32(b))] }
        return crc
    }

    /// Splits a physical stream into pages; the stream must consist of whole pages and nothing else.
    static func pages(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [OggPage] {
        var pages: [OggPage] = []
        var o = 0
        while o < bytes.count {
            guard o + 27 <= bytes.count, bytes[o..<(o + 4)].elementsEqual("OggS".utf8), bytes[o + 4] == 0 else {
                XCTFail("no Ogg page at offset \(o) of \(bytes.count)", file: file, line: line)
                return pages
            }
            let segments = Int(bytes[o + 26])
            let lacing = Array(bytes[(o + 27)..<(o + 27 + segments)])
            let bodyLength = lacing.reduce(0) { $0 + Int($1) }
            let end = o + 27 + segments + bodyLength
            guard end <= bytes.count else {
                XCTFail("truncated Ogg page at offset \(o)", file: file, line: line)
                return pages
            }
            func u32(_ p: Int) -> UInt32 { UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24 }
            var granule: UInt64 = 0
            for i in 0..<8 { granule |= UInt64(bytes[o + 6 + i]) << (8 * UInt64(i)) }
            var zeroed = Array(bytes[o..<end])
            for i in 22..<26 { zeroed[i] = 0 }
            pages.append(OggPage(headerType: bytes[o + 5], granule: Int64(bitPattern: granule), serial: u32(o + 14),
                                 sequence: u32(o + 18), storedCRC: u32(o + 22), computedCRC: crc(zeroed[...]),
                                 lacing: lacing, body: Array(bytes[(o + 27 + segments)..<end])))
            o = end
        }
        return pages
    }

    /// Reassembles packets: (serial, bytes, page index where the packet ends, granule of that page if it is the last
    /// packet ending there, else -1).
    static func packets(_ pages: [OggPage]) -> [(serial: UInt32, data: [UInt8], page: Int, granule: Int64)] {
        var out: [(UInt32, [UInt8], Int, Int64)] = []
        var partial: [UInt8] = []
        for (index, page) in pages.enumerated() {
            if !page.isContinued { partial = [] }
            var offset = 0
            let ends = page.lacing.enumerated().filter { $0.element < 255 }.map(\.offset)
            for (i, l) in page.lacing.enumerated() {
                partial += page.body[offset..<(offset + Int(l))]
                offset += Int(l)
                if l < 255 {
                    out.append((page.serial, partial, index, i == ends.last ? page.granule : -1))
                    partial = []
                }
            }
        }
        return out
    }

    /// Builds one page holding whole packets (each < 64 kB, at most 255 segments in total).
    static func page(serial: UInt32, sequence: UInt32, granule: Int64, bos: Bool = false, eos: Bool = false,
                     packets: [[UInt8]]) -> [UInt8] {
        var lacing: [UInt8] = []
        for p in packets {
            var n = p.count
            while n >= 255 { lacing.append(255); n -= 255 }
            lacing.append(UInt8(n))
        }
        precondition(lacing.count <= 255)
        var b: [UInt8] = Array("OggS".utf8) + [0, (bos ? 2 : 0) | (eos ? 4 : 0)]
        for i in 0..<8 { b.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: granule) >> (8 * UInt64(i)))) }
        for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: serial >> (8 * UInt32(i)))) }
        for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: sequence >> (8 * UInt32(i)))) }
        b += [0, 0, 0, 0, UInt8(lacing.count)] + lacing
        for p in packets { b += p }
        let c = crc(b[...])
        for i in 0..<4 { b[22 + i] = UInt8(truncatingIfNeeded: c >> (8 * UInt32(i))) }
        return b
    }

    static func opusHead(channels: Int, preSkip: Int, rate: Int) -> [UInt8] {
        var b: [UInt8] = Array("OpusHead".utf8) + [1, UInt8(channels), UInt8(preSkip & 0xff), UInt8(preSkip >> 8)]
        for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: rate >> (8 * i))) }
        return b + [0, 0, 0]
    }

    static func opusTags(vendor: String = "nodes-tests") -> [UInt8] {
        let v = Array(vendor.utf8)
        return Array("OpusTags".utf8) + [UInt8(v.count), 0, 0, 0] + v + [0, 0, 0, 0]
    }

    /// Duration of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716 section 3.1), or nil if malformed.
    static func opusDuration48k(_ packet: [UInt8]) -> Int? {
        guard let toc = packet.first else { return nil }
        let config = Int(toc >> 3)
        let frame: Int
        switch config {
        case 0..<12: frame = [480, 960, 1920, 2880][config % 4]
        case 12..<16: frame = [480, 960][config % 2]
        default: frame = [120, 240, 480, 960][config % 4]
        }
        let count: Int
        switch toc & 3 {
        case 0: count = 1
        case 1, 2: count = 2
        default:
            guard packet.count >= 2 else { return nil }
            count = Int(packet[1] & 0x3f)
        }
        let total = frame * count
        return count > 0 && total <= 5760 ? total : nil
    }
}

// MARK: - Scripted nodes for whole-graph tests

/// Scripts shared between a test and the nodes it builds (looked up by name).
final class Scripts: @unchecked Sendable {
    static let shared = Scripts()
    private let lock = NSLock()
    private var pcm: [String: [[Float]?]] = [:]
    private var events: [String: [Int: [GraphEvent]]] = [:]
    private var speakers: [String: [[UInt64]]] = [:]

    func setPCM(_ name: String, _ frames: [[Float]?]) { lock.withLock { pcm[name] = frames } }
    func pcmScript(_ name: String) -> [[Float]?] { lock.withLock { pcm[name] ?? [] } }
    func setEvents(_ name: String, _ script: [Int: [GraphEvent]]) { lock.withLock { events[name] = script } }
    func eventScript(_ name: String) -> [Int: [GraphEvent]] { lock.withLock { events[name] ?? [:] } }
    func setSpeakers(_ name: String, _ script: [[UInt64]]) { lock.withLock { speakers[name] = script } }
    func speakerScript(_ name: String) -> [[UInt64]] { lock.withLock { speakers[name] ?? [] } }
}

/// Source: plays a scripted list of frames (nil = no frame that tick), then ends.
final class ScriptedSource: NodeType {
    static let typeName = "ScriptedSource"
    static let summary = "Test source playing scripted frames."
    static let parameters: [ParameterSpec] = [
        .required("script", .string, "Script name."),
        .optional("rate", .int(8_000...192_000), default: .int(48_000), "Rate."),
        .optional("channels", .int(1...8), default: .int(2), "Channels."),
    ]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(outputs: [OutputSpec("out", .pcm(PCMFormat(sampleRate: params.int("rate") ?? 48_000, channels: params.int("channels") ?? 2)), doc: "Frames.")])
    }

    private let frames: [[Float]?]
    private let output: PCMLane

    init(_ setup: NodeSetup) throws {
        frames = Scripts.shared.pcmScript(setup.params.string("script") ?? "")
        output = setup.pcmOutput("out")
    }

    func process(_ tick: Tick) throws {
        let i = Int(tick.index)
        guard i < frames.count else { output.finish(); return }
        if let f = frames[i] {
            precondition(f.count == output.pcmFormat.samplesPerFrame)
            output.write { out in _ = out.update(fromContentsOf: f) }
        }
    }
}

/// Emits scripted events at given ticks; never ends by itself.
final class EventScript: NodeType {
    static let typeName = "EventScript"
    static let summary = "Test source of scripted events."
    static let parameters: [ParameterSpec] = [.required("script", .string, "Script name.")]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(outputs: [OutputSpec("out", MediaFormat(.event), doc: "Events.")])
    }

    private let script: [Int: [GraphEvent]]
    private let output: EventLane

    init(_ setup: NodeSetup) throws {
        script = Scripts.shared.eventScript(setup.params.string("script") ?? "")
        output = setup.eventOutput("out")
    }

    func process(_ tick: Tick) throws {
        for e in script[Int(tick.index)] ?? [] { output.emit(e) }
    }
}

/// Per-speaker streams: in tick t, a frame (0.1 everywhere) for each id in `script[t]`; ends after the script.
final class ScriptedSpeakers: NodeType {
    static let typeName = "ScriptedSpeakers"
    static let summary = "Test source of per-speaker streams."
    static let parameters: [ParameterSpec] = [.required("script", .string, "Script name.")]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(outputs: [OutputSpec("out", MediaFormat(.pcmStreams, pcm: .discord), doc: "Streams.")])
    }

    private let script: [[UInt64]]
    private let output: PCMStreamsLane

    init(_ setup: NodeSetup) throws {
        script = Scripts.shared.speakerScript(setup.params.string("script") ?? "")
        output = setup.streamsOutput("out")
    }

    func process(_ tick: Tick) throws {
        let t = Int(tick.index)
        guard t < script.count else { output.finish(); return }
        for id in script[t] { output.append(id: id) { $0.update(repeating: 0.1) } }
    }
}

/// The standard registry plus the scripted test nodes.
var testRegistry: NodeRegistry {
    var r = NodeRegistry.standard
    r.register(ScriptedSource.self)
    r.register(EventScript.self)
    r.register(ScriptedSpeakers.self)
    return r
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
    final class Lines: @unchecked Sendable {
        let lock = NSLock()
        var all: [String] = []
    }
    let lines = Lines()
    RouterLog.shared.setSink { line in lines.lock.withLock { lines.all.append(line) } }
    defer { RouterLog.shared.setSink { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
    try body()
    RouterLog.shared.flush()
    return lines.lock.withLock { lines.all }
}

/// Quiets the router log during a test (warnings and errors are still shown).
func quietLog(_ test: XCTestCase) {
    let before = RouterLog.shared.level
    RouterLog.shared.level = .warning
    test.addTeardownBlock { RouterLog.shared.level = before }
}
