import Foundation
import XCTest

@testable import Codecs

/// Speech-like test signal: harmonics of `fundamental` with 1/k amplitudes and slow amplitude modulation.
func harmonicSignal(sampleRate: Int, frames: Int, channels: Int, fundamental: Double = 220, amplitude: Double = 0.3)
    -> [Float]
{
    var samples = [Float](repeating: 0, count: frames * channels)
    for c in 0..<channels {
        let f0 = fundamental * (1 + 0.5 * Double(c))
        for n in 0..<frames {
            let t = Double(n) / Double(sampleRate)
            var value = 0.0
            for k in 1...5 where f0 * Double(k) < Double(sampleRate) / 2 {
                value += sin(2 * .pi * f0 * Double(k) * t) / Double(k)
            }
            let envelope = 0.75 + 0.25 * sin(2 * .pi * 3 * t)
            samples[n * channels + c] = Float(amplitude * envelope * value / 2.3)
        }
    }
    return samples
}

/// A sine tone, identical on every channel.
func tone(frequency: Double, sampleRate: Int, frames: Int, channels: Int, amplitude: Double = 0.5) -> [Float] {
    var samples = [Float](repeating: 0, count: frames * channels)
    for n in 0..<frames {
        let value = Float(amplitude * sin(2 * .pi * frequency * Double(n) / Double(sampleRate)))
        for c in 0..<channels { samples[n * channels + c] = value }
    }
    return samples
}

/// One channel of interleaved audio.
func channel(_ samples: [Float], _ index: Int, of channels: Int) -> [Float] {
    stride(from: index, to: samples.count, by: channels).map { samples[$0] }
}

/// Normalised correlation of `a[i]` with `b[i + lag]` over the overlapping range (optionally only `i` in `window`).
func correlation(_ a: [Float], _ b: [Float], lag: Int = 0, window: Range<Int>? = nil) -> Double {
    var sab = 0.0, saa = 0.0, sbb = 0.0
    let indices = window.map { max(0, $0.lowerBound)..<min(a.count, $0.upperBound) } ?? 0..<a.count
    for i in indices where i + lag >= 0 && i + lag < b.count {
        let x = Double(a[i]), y = Double(b[i + lag])
        sab += x * y
        saa += x * x
        sbb += y * y
    }
    guard saa > 0, sbb > 0 else { return 0 }
    return sab / (saa * sbb).squareRoot()
}

/// Lag in `range` where `b` best matches `a`, judged on 4800 samples from the middle of `a`.
func bestLag(_ a: [Float], _ b: [Float], in range: ClosedRange<Int>) -> Int {
    let start = max(0, a.count / 2 - 2400)
    let window = start..<(start + 4800)
    func best<S: Sequence>(_ lags: S) -> Int where S.Element == Int {
        lags.max { correlation(a, b, lag: $0, window: window) < correlation(a, b, lag: $1, window: window) }!
    }
    // Coarse search in steps of 3 samples, then refine around the winner.
    let coarse = best(stride(from: range.lowerBound, through: range.upperBound, by: 3))
    return best(max(range.lowerBound, coarse - 3)...min(range.upperBound, coarse + 3))
}

/// Amplitude of the `frequency` component (Goertzel).
func goertzelAmplitude(_ x: [Float], frequency: Double, sampleRate: Int) -> Double {
    let w = 2 * Double.pi * frequency / Double(sampleRate)
    let coefficient = 2 * cos(w)
    var s1 = 0.0, s2 = 0.0
    for sample in x {
        let s0 = Double(sample) + coefficient * s1 - s2
        s2 = s1
        s1 = s0
    }
    let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    return 2 * power.squareRoot() / Double(x.count)
}

/// Number of sign changes from negative to non-negative.
func risingZeroCrossings(_ x: [Float]) -> Int {
    var count = 0
    for i in 1..<x.count where x[i - 1] < 0 && x[i] >= 0 { count += 1 }
    return count
}

/// A fresh temporary directory removed at the end of the test.
func temporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("codecs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Path of an installed tool, or nil.
func toolPath(_ name: String) -> String? {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"]
    where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
        return "\(dir)/\(name)"
    }
    return nil
}

/// Runs a tool; returns exit status and combined output.
func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Encodes `pcm` into a complete Ogg Opus stream with `OggOpusEncoder` (sample-exact end unless `flushLookahead` is false).
func makeOggOpus(
    _ pcm: [Float], sampleRate: Int, channels: Int, serial: UInt32 = 0x1234_5678, packetsPerPage: Int = 1,
    bitrate: Int? = nil, flushLookahead: Bool = true
) throws -> (bytes: [UInt8], encoder: OggOpusEncoder) {
    let encoder = try OggOpusEncoder(
        encoder: OpusEncoder(sampleRate: sampleRate, channels: channels, bitrate: bitrate),
        serial: serial, packetsPerPage: packetsPerPage)
    let frame = encoder.encoder.samplesPerChannel * channels
    let frames = pcm.count / frame
    var bytes: [UInt8] = []
    try pcm.withUnsafeBufferPointer { all in
        for index in 0..<frames {
            try encoder.encode(UnsafeBufferPointer(rebasing: all[(index * frame)..<((index + 1) * frame)]))
            encoder.writer.drainPages(into: &bytes)
        }
        if flushLookahead {
            try encoder.finish(remainder: UnsafeBufferPointer(rebasing: all[(frames * frame)...]))
        } else {
            precondition(pcm.count % frame == 0)
        }
    }
    encoder.writer.finish()
    encoder.writer.drainPages(into: &bytes)
    return (bytes, encoder)
}

/// Pushes `bytes` into `decoder` in the given chunk sizes (cycled) and collects every frame plus the remainder.
func decodeAll(_ bytes: [UInt8], with decoder: OggOpusDecoder, chunkSizes: [Int]? = nil) -> [Float] {
    var output: [Float] = []
    var frame = [Float](repeating: 0, count: decoder.samplesPerFrame * decoder.channels)
    func drainFrames() {
        frame.withUnsafeMutableBufferPointer { buffer in
            while decoder.readFrame(into: buffer) { output.append(contentsOf: buffer) }
        }
    }
    bytes.withUnsafeBytes { all in
        var offset = 0, chunkIndex = 0
        while offset < all.count {
            let size = min(chunkSizes.map { $0[chunkIndex % $0.count] } ?? all.count, all.count - offset)
            decoder.push(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + size)]))
            drainFrames()
            offset += size
            chunkIndex += 1
        }
    }
    drainFrames()
    let remainder = frame.withUnsafeMutableBufferPointer { decoder.readRemainder(into: $0) }
    output.append(contentsOf: frame[0..<(remainder * decoder.channels)])
    return output
}

/// Independent Ogg page builder (own CRC) for hand-crafted streams.
func makeOggPage(serial: UInt32, sequence: UInt32, granule: Int64, flags: UInt8, packets: [[UInt8]]) -> [UInt8] {
    var lacing: [UInt8] = []
    var body: [UInt8] = []
    for packet in packets {
        var remaining = packet.count
        while remaining >= 255 {
            lacing.append(255)
            remaining -= 255
        }
        lacing.append(UInt8(remaining))
        body += packet
    }
    var page: [UInt8] = Array("OggS".utf8) + [0, flags]
    for k in 0..<8 { page.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: granule) >> (8 * UInt64(k)))) }
    for value in [serial, sequence, 0] {
        for k in 0..<4 { page.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(k)))) }
    }
    page.append(UInt8(lacing.count))
    page += lacing + body
    var crc: UInt32 = 0
    for byte in page {
        crc ^= UInt32(byte) << 24
        for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
    }
    for k in 0..<4 { page[22 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    return page
}

/// Splits a byte stream into its Ogg pages (trusting the headers; for well-formed test input).
func splitPages(_ bytes: [UInt8]) -> [[UInt8]] {
    var pages: [[UInt8]] = []
    var offset = 0
    while offset + 27 <= bytes.count {
        let segments = Int(bytes[offset + 26])
        let bodyLength = bytes[(offset + 27)..<(offset + 27 + segments)].reduce(0) { $0 + Int($1) }
        let length = 27 + segments + bodyLength
        pages.append(Array(bytes[offset..<(offset + length)]))
        offset += length
    }
    return pages
}
