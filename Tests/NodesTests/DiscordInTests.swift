import Codecs
import DiscordVoice
import Nodes
import Realtime
import RouterCore
import XCTest

/// DiscordIn on virtual time, fed real Opus packets through the voice connection's receive queue.
final class DiscordInTests: XCTestCase {
    override func setUp() { quietLog(self) }

    /// Packets on time: one continuous stream keyed by the user id, the speech audible after the 60 ms hold (plus
    /// the encoder's lookahead), `speaker joined` on the events output.
    func testRealOpusPacketsBecomeOneContinuousStream() throws {
        let rig = try DiscordInRig()
        let input = Signal.speechLike(rate: 48_000, frames: 96_000, channels: 2)
        rig.talk(try OpusTalk.encode(input), userID: 42, ssrc: 7)
        try rig.tick(110)
        XCTAssertEqual(rig.events, [.speakerJoined(id: 42)])
        XCTAssertEqual(rig.presentTicks[42]?.first, 0, "the stream starts with the first packet")
        XCTAssertTrue(rig.isContinuous(42))
        let left = Analysis.channel(rig.signal(of: 42), 0, of: 2)
        let best = Analysis.bestLag(Analysis.channel(input, 0, of: 2), left, in: 2_900...3_500, windowLength: 24_000)
        XCTAssertGreaterThan(best.correlation, 0.9, "decoded speech matches what was sent")
        let c = try XCTUnwrap(rig.node.speakerCounters[42])
        XCTAssertEqual(c.packets, 100)
        XCTAssertEqual(c.decoded, 100)
        XCTAssertEqual(c.lost + c.late + c.duplicates + c.decodeErrors + c.malformed, 0)
        XCTAssertEqual(rig.node.lastArrival(of: 42), rig.now - 11 * Tick.nanoseconds, "the 100th packet's arrival")
        XCTAssertGreaterThan(rig.node.handoffLatency.count, 0)
    }

    /// Two speakers: two streams each carrying its own voice; one leaves the call (op 13) and their stream ends once
    /// their audio has played; the other goes quiet and leaves after `leave_after`.
    func testTwoSpeakersTwoStreamsJoinedAndLeft() throws {
        let rig = try DiscordInRig(params: ["leave_after": "500ms"])
        rig.talk(try OpusTalk.tone(440, seconds: 1), userID: 1, ssrc: 11)
        rig.talk(try OpusTalk.tone(1_000, seconds: 0.6), userID: 2, ssrc: 22, from: rig.now + 200_000_000)
        try rig.tick(45)
        rig.speakerEvent(.left(userID: 2))  // after their last packet (t = 780 ms)
        try rig.tick(60)
        let one = Analysis.channel(rig.signal(of: 1), 0, of: 2), two = Analysis.channel(rig.signal(of: 2), 0, of: 2)
        XCTAssertGreaterThan(Analysis.goertzel(one, frequency: 440, rate: 48_000), 0.1)
        XCTAssertLessThan(Analysis.goertzel(one, frequency: 1_000, rate: 48_000), 0.01, "no crosstalk")
        XCTAssertGreaterThan(Analysis.goertzel(two, frequency: 1_000, rate: 48_000), 0.1)
        XCTAssertEqual(
            rig.events, [.speakerJoined(id: 1), .speakerJoined(id: 2), .speakerLeft(id: 2), .speakerLeft(id: 1)])
        // Speaker 2's 30 packets arrive at ticks 10...39, play at 13...42, the spurt's end is concealed until 45.
        XCTAssertEqual(rig.presentTicks[2]?.last, 45, "speaker 2 ends once their buffered audio has played")
        let lastOfOne = try XCTUnwrap(rig.presentTicks[1]?.last)
        XCTAssertEqual(lastOfOne, 49 + 25, accuracy: 2, "speaker 1 stays 500 ms after their last packet (tick 49)")
        XCTAssertTrue(rig.isContinuous(1) && rig.isContinuous(2))
        XCTAssertEqual(rig.node.activeSpeakers, [])
        XCTAssertEqual(rig.node.speakerCounters[2]?.joins, 1)
    }
}
