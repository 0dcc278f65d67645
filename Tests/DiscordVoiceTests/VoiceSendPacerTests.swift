import XCTest

@testable import DiscordVoice

final class VoiceSendPacerTests: XCTestCase {
    private let ms: UInt64 = 1_000_000

    func testTalkspurtSpeakingSilenceTailAndCounters() {
        var pacer = VoiceSendPacer(start: 100 * ms)
        var queued = 0
        var log: [String] = []
        func tick(_ lateness: UInt64 = 0) {
            let step = pacer.deadlinePassed(now: pacer.next + lateness, queued: queued)
            var entry = "\(step.packet)"
            if let speaking = step.speaking { entry += speaking ? "+on" : "+off" }
            if step.packet == .frame { queued -= 1 }
            log.append(entry)
        }
        tick()  // nothing queued: nothing
        queued = 1
        tick()  // below prefill (2): nothing
        queued = 3
        tick()  // Speaking on before the first frame
        tick()
        tick()  // two more frames, queue empty
        tick()
        tick()
        tick()  // three empty ticks: deficits, then the talkspurt ends
        for _ in 0..<6 { tick() }  // five silence frames, Speaking off with the last, then nothing
        XCTAssertEqual(
            log,
            [
                "none", "none", "frame+on", "frame", "frame", "none", "none",
                "silence", "silence", "silence", "silence", "silence+off", "none", "none",
            ])
        XCTAssertEqual(pacer.counters.sent, 3)
        XCTAssertEqual(pacer.counters.deficit, 3)
        XCTAssertEqual(pacer.counters.silence, 5)
        XCTAssertEqual(pacer.counters.late, 0)
    }

    /// `next += 20 ms` always: a late wake-up does not move later deadlines.
    func testAbsoluteDeadlinesAndLateness() {
        var pacer = VoiceSendPacer(start: 0)
        _ = pacer.deadlinePassed(now: 7 * ms, queued: 0)
        XCTAssertEqual(pacer.next, 20 * ms)
        _ = pacer.deadlinePassed(now: 20 * ms + 300_000, queued: 0)
        XCTAssertEqual(pacer.next, 40 * ms)
        XCTAssertEqual(pacer.counters.late, 1)
        XCTAssertEqual(pacer.counters.worstLateness, 7 * ms)
        XCTAssertEqual(pacer.latenessPercentile(0.5), 400_000)
        // A stall of a second skips missed deadlines but keeps the 20 ms phase.
        _ = pacer.deadlinePassed(now: 1_000 * ms + 5 * ms, queued: 0)
        XCTAssertEqual(pacer.next % (20 * ms), 0)
        XCTAssertGreaterThan(pacer.next, 1_000 * ms)
    }

    func testNewTalkspurtDuringTrailingSilenceAndOverflow() {
        var pacer = VoiceSendPacer(start: 0)
        var step = pacer.deadlinePassed(now: 0, queued: 2)
        XCTAssertEqual(step, .init(speaking: true, packet: .frame))
        for _ in 0..<3 { step = pacer.deadlinePassed(now: pacer.next, queued: 0) }
        step = pacer.deadlinePassed(now: pacer.next, queued: 0)
        XCTAssertEqual(step.packet, .silence)
        step = pacer.deadlinePassed(now: pacer.next, queued: 2)
        XCTAssertEqual(step, .init(speaking: nil, packet: .frame), "Speaking is still on: no second op 5")
        XCTAssertEqual(pacer.excess(queued: 10), 4)
        XCTAssertEqual(pacer.counters.overflow, 4)
    }
}
