import Codecs
import XCTest

/// Drives a jitter buffer on virtual time: 20 ms ticks, packets delivered when their arrival time has come.
private struct JitterScenario {
    struct Packet {
        var sequence: UInt16
        var timestamp: UInt32
        var arrivalMs: Double
        var byte: UInt8
    }

    let buffer: RTPJitterBuffer
    var packets: [Packet] = []

    init(_ configuration: RTPJitterBuffer.Configuration = .init()) {
        buffer = RTPJitterBuffer(configuration: configuration)
    }

    /// `count` packets of one spurt from `sequence`/`timestamp`, sent every 20 ms from `startMs`, each delayed by
    /// `delay(i)` ms on the way; payload byte = `firstByte + i`.
    mutating func spurt(
        count: Int, sequence: UInt16 = 100, timestamp: UInt32 = 5_000, startMs: Double = 0,
        firstByte: UInt8 = 0, delay: (Int) -> Double = { _ in 1 }
    ) {
        for i in 0..<count {
            packets.append(
                Packet(
                    sequence: sequence &+ UInt16(i), timestamp: timestamp &+ UInt32(i) * 960,
                    arrivalMs: startMs + Double(i) * 20 + delay(i), byte: firstByte &+ UInt8(i)))
        }
    }

    /// Runs `ticks` ticks; returns per tick "s" silence, a payload byte as a number, "c" conceal, "f<byte>" FEC.
    func run(ticks: Int) -> [String] {
        var pending = packets.sorted { $0.arrivalMs < $1.arrivalMs }
        var out: [String] = []
        for tick in 0..<ticks {
            let now = Double(tick) * 20
            while let p = pending.first, p.arrivalMs <= now {
                pending.removeFirst()
                [p.byte, 0xAA].withUnsafeBytes {
                    buffer.insert(
                        sequence: p.sequence, timestamp: p.timestamp,
                        arrivalNanoseconds: UInt64(p.arrivalMs * 1e6), payload: $0)
                }
            }
            switch buffer.next(nowNanoseconds: UInt64(now * 1e6)) {
            case .silence: out.append("s")
            case .conceal: out.append("c")
            case .packet: out.append(String(buffer.withPayload { $0[0] }))
            case .concealWithNext: out.append("f" + String(buffer.withPayload { $0[0] }))
            }
        }
        return out
    }
}

final class RTPJitterBufferTests: XCTestCase {
    func testASteadyStreamPlaysInOrderAfterTheInitialDelay() {
        var s = JitterScenario()
        s.spurt(count: 5)
        // Arrives at 1 ms, plays from 61 ms (3 frames of delay) = tick 4; then 3 concealed ticks and idle.
        XCTAssertEqual(s.run(ticks: 14), ["s", "s", "s", "s", "0", "1", "2", "3", "4", "c", "c", "c", "s", "s"])
        let c = s.buffer.counters
        XCTAssertEqual([c.played, c.lost, c.late, c.reordered, c.duplicates, c.depth], [5, 0, 0, 0, 0, 0])
        XCTAssertEqual(c.talkSpurts, 1)
    }

    func testReorderedPacketsPlayInSequenceOrder() {
        var s = JitterScenario()
        s.spurt(count: 6) { i in i == 2 ? 25 : 1 }  // packet 2 overtaken by packet 3
        XCTAssertEqual(Array(s.run(ticks: 10)[4...9]), ["0", "1", "2", "3", "4", "5"])
        XCTAssertEqual(s.buffer.counters.reordered, 1)
        XCTAssertEqual(s.buffer.counters.lost, 0)
    }

    func testDuplicatesAreDroppedWhetherHeldOrAlreadyPlayed() {
        var s = JitterScenario()
        s.spurt(count: 6)
        s.packets.append(.init(sequence: 101, timestamp: 5_960, arrivalMs: 22, byte: 99))  // still held
        s.packets.append(.init(sequence: 100, timestamp: 5_000, arrivalMs: 95, byte: 98))  // played at 80 ms
        XCTAssertEqual(Array(s.run(ticks: 10)[4...9]), ["0", "1", "2", "3", "4", "5"])
        XCTAssertEqual(s.buffer.counters.duplicates, 2)
        XCTAssertEqual(s.buffer.counters.late, 0)
    }

    func testALostPacketIsConcealedWithTheNextPacketForFEC() {
        var s = JitterScenario()
        s.spurt(count: 6)
        s.packets.remove(at: 2)
        XCTAssertEqual(Array(s.run(ticks: 10)[4...9]), ["0", "1", "f3", "3", "4", "5"])
        XCTAssertEqual(s.buffer.counters.lost, 1)
        XCTAssertEqual(s.buffer.counters.concealed, 1)
    }

    func testAPacketAfterItsTickIsLateAndTheStreamStaysOnTime() {
        var s = JitterScenario()
        s.spurt(count: 6) { i in i == 2 ? 200 : 1 }  // arrives at 240 ms, its tick was 120 ms
        XCTAssertEqual(Array(s.run(ticks: 14)[4...9]), ["0", "1", "f3", "3", "4", "5"])
        XCTAssertEqual(s.buffer.counters.late, 1)
    }

    func testAPauseInTheTimestampsPlaysAsSilenceWithoutDrift() {
        var s = JitterScenario()
        s.spurt(count: 3)
        // Sequence numbers continue; the sender paused 2 frames (40 ms) and its timestamps say so.
        s.spurt(count: 3, sequence: 103, timestamp: 5_000 + 5 * 960, startMs: 100, firstByte: 10)
        XCTAssertEqual(Array(s.run(ticks: 12)[4...11]), ["0", "1", "2", "s", "s", "10", "11", "12"])
        XCTAssertEqual(s.buffer.counters.lost, 0)
        XCTAssertEqual(s.buffer.counters.concealed, 0)
        XCTAssertEqual(s.buffer.counters.talkSpurts, 1)
    }

    func testALongPauseStartsANewSpurtWithItsOwnDelay() {
        var s = JitterScenario()
        s.spurt(count: 2)
        s.spurt(count: 2, sequence: 102, timestamp: 5_000 + 50 * 960, startMs: 1_000, firstByte: 10)
        let out = s.run(ticks: 56)
        XCTAssertEqual(Array(out[4...5]), ["0", "1"])
        XCTAssertEqual(Array(out[50...55]), ["s", "s", "10", "11", "c", "c"])  // 1001 ms + delay → tick 52
        XCTAssertEqual(s.buffer.counters.talkSpurts, 2)
        XCTAssertEqual(s.buffer.counters.lost, 0)
    }

    func testATimestampJumpMidSpurtResyncs() {
        var s = JitterScenario()
        s.spurt(count: 3)
        s.spurt(count: 3, sequence: 103, timestamp: 900_000, startMs: 60, firstByte: 10)  // 17 s ahead
        let out = s.run(ticks: 14)
        XCTAssertEqual(s.buffer.counters.resyncs, 1)
        XCTAssertEqual(Array(out[4...9]), ["0", "1", "2", "10", "11", "12"])
        XCTAssertEqual(s.buffer.counters.late, 0)
    }

    func testSequenceAndTimestampWrapAround() {
        var s = JitterScenario()
        s.spurt(count: 6, sequence: 65_533, timestamp: UInt32.max - 1_000)
        XCTAssertEqual(Array(s.run(ticks: 10)[4...9]), ["0", "1", "2", "3", "4", "5"])
        XCTAssertEqual(s.buffer.counters.lost + s.buffer.counters.resyncs + s.buffer.counters.late, 0)
    }

    func testTheDelayAdaptsToJitterWithinItsBounds() {
        var s = JitterScenario()
        s.spurt(count: 50) { i in i % 2 == 0 ? 1 : 45 }  // ±22 ms of jitter
        s.spurt(count: 5, sequence: 150, timestamp: 5_000 + 200 * 960, startMs: 4_000, firstByte: 100)
        _ = s.run(ticks: 220)
        let c = s.buffer.counters
        XCTAssertGreaterThan(c.jitterNanoseconds, 10_000_000)
        XCTAssertGreaterThan(c.targetDelayFrames, 3)
        XCTAssertLessThanOrEqual(c.targetDelayFrames, 10)
        XCTAssertEqual(c.talkSpurts, 2)
    }

    func testEmptyAndOversizedPayloadsAreCountedAndDropped() {
        let buffer = RTPJitterBuffer()
        buffer.insert(
            sequence: 1, timestamp: 1, arrivalNanoseconds: 0, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        [UInt8](repeating: 1, count: 2_000).withUnsafeBytes {
            buffer.insert(sequence: 2, timestamp: 2, arrivalNanoseconds: 0, payload: $0)
        }
        XCTAssertEqual(buffer.counters.malformed, 2)
        XCTAssertEqual(buffer.counters.received, 0)
        XCTAssertEqual(buffer.next(nowNanoseconds: 1_000_000_000), .silence)
    }
}
