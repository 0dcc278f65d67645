import Foundation
import Nodes
import RouterCore
import XCTest

/// The taps on their own: what they record or measure is what passed on the edge.
final class TapNodesTests: XCTestCase {
    override func setUp() { quietLog(self) }

    func testOggTapRecordsByteForByte() throws {
        let dir = try TestFiles.directory(self)
        let path = dir.appendingPathComponent("sub/tap.opus").path  // the folder is created
        let h = try NodeHarness<OggTap>(params: ["path": path], inputs: ["in": MediaFormat(.ogg)])
        var rng = Signal.Random(seed: 8)
        var expected: [UInt8] = []
        for t in 0..<40 {
            for _ in 0..<(t % 3) {
                let item = (0..<(1 + rng.int(300))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                h.packetInput().append(item)
                expected += item
            }
            try h.tick()
        }
        h.node.stop()
        XCTAssertEqual(try TestFiles.bytes(path), expected)
    }

    func testMeterReadsRMSAndPeak() throws {
        let h = try NodeHarness<Meter>(params: ["interval": "200ms"], inputs: ["in": .pcm(.personaPlex)])
        let tone = Signal.tone(1000, rate: 24_000, frames: 4_800, amplitude: 0.5)
        for (t, frame) in frames(of: tone, samplesPerFrame: 480).enumerated() {
            if t != 4 { h.pcmInput().write { _ = $0.update(fromContentsOf: frame) } }  // one tick without signal
            try h.tick()
        }
        let reading = try XCTUnwrap(h.node.lastReading)
        XCTAssertEqual(reading.rms, 20 * log10(0.5 / 2.0.squareRoot()), accuracy: 0.05, "sine RMS = peak / √2")
        XCTAssertEqual(reading.peak, 20 * log10(0.5), accuracy: 0.01)
        XCTAssertEqual(Meter.dBFS(0), -.infinity)
    }

    func testLogTapIsRateLimited() throws {
        let h = try NodeHarness<LogTap>(params: ["kind": "ogg", "max_per_second": "5"], inputs: ["in": MediaFormat(.ogg)])
        for _ in 0..<100 {  // 2 s, 20 items per tick
            for i in 0..<20 { h.packetInput().append([UInt8(i), 1, 2, 3]) }
            try h.tick()
        }
        XCTAssertEqual(h.node.written, 10, "5 lines per second")
        XCTAssertEqual(h.node.suppressedTotal, 2_000 - 10)
    }
}
