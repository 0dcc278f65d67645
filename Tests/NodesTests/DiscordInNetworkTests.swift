import Codecs
import DiscordVoice
import Nodes
import Realtime
import RouterCore
import XCTest

/// DiscordIn against a bad network and bad peers: loss, reordering, duplicates, jitter, undecodable packets, too
/// many speakers, and a run without a voice session.
final class DiscordInNetworkTests: XCTestCase {
    override func setUp() { quietLog(self) }

    /// 10 s of speech with 10 % loss, 5 % reordering (25 ms late), 2 % duplication and 0-20 ms jitter (seeded): the
    /// stream never breaks, losses are concealed, and each impairment is counted as what it is.
    func testLossReorderDuplicationAndJitterAreConcealedAndCounted() throws {
        let rig = try DiscordInRig()
        var rng = Signal.Random(seed: 2026)
        var (lost, reordered, duplicated) = (0, 0, 0)
        rig.talk(try OpusTalk.speech(seconds: 10), userID: 5, ssrc: 55) { _ in
            let jitter = UInt64(rng.int(20_001)) * 1_000
            switch rng.int(100) {
            case 0..<10:
                lost += 1
                return []
            case 10..<15:
                reordered += 1
                return [jitter + 25_000_000]
            case 15..<17:
                duplicated += 1
                return [jitter, jitter + 5_000_000]
            default: return [jitter]
            }
        }
        try rig.tick(520)
        let c = try XCTUnwrap(rig.node.speakerCounters[5])
        print("impaired: sent lost \(lost) reordered \(reordered) duplicated \(duplicated); \(c.summary)")
        XCTAssertTrue(rig.isContinuous(5), "a frame every tick")
        XCTAssertEqual(c.lost, lost, accuracy: lost / 10, "losses found by the sequence numbers")
        XCTAssertGreaterThanOrEqual(c.concealed, c.lost)
        XCTAssertEqual(c.duplicates, duplicated, "copies dropped")
        XCTAssertEqual(c.reordered, reordered, accuracy: reordered / 4, "late-but-in-time packets put back in order")
        XCTAssertEqual(c.late, 0, "25 ms of reordering fits in the 60 ms hold")
        XCTAssertEqual(c.decoded, 500 - lost)
        let frames = rig.streams[5] ?? []
        let audible = frames.filter { Analysis.rms($0[...]) > 0.005 }.count
        XCTAssertGreaterThan(audible, 480, "speech (decoded or concealed) in nearly every frame")
        XCTAssertEqual(rig.harness.metrics.errors, 0)
    }

    /// Undecodable Opus (a TOC announcing 63 frames), an empty payload and random bytes: concealed and counted,
    /// never passed on as noise, never a crash.
    func testGarbageOpusIsConcealedAndCounted() throws {
        let rig = try DiscordInRig()
        var rng = Signal.Random(seed: 9)
        var packets = try OpusTalk.speech(seconds: 2)
        for k in stride(from: 5, to: 100, by: 10) { packets[k] = [0xFF, 0xFF, 0xFF] }
        packets[50] = []
        for k in stride(from: 7, to: 100, by: 20) {
            packets[k] = (0..<40).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        rig.talk(packets, userID: 3, ssrc: 33)
        try rig.tick(110)
        let c = try XCTUnwrap(rig.node.speakerCounters[3])
        XCTAssertTrue(rig.isContinuous(3))
        XCTAssertGreaterThanOrEqual(c.decodeErrors, 10, "the ten 0xFF packets at least")
        XCTAssertEqual(c.malformed, 1, "the empty payload")
        XCTAssertEqual(rig.harness.metrics.errors, c.decodeErrors + c.malformed)
        let samples = rig.signal(of: 3)
        XCTAssertTrue(samples.allSatisfy { $0.isFinite && abs($0) <= 1.5 }, "concealment, not noise")
    }

    /// With max_speakers 2, a third speaker is counted (speakers and frames) and ignored; the others are not touched.
    func testSpeakersBeyondMaxSpeakersAreCountedAndIgnored() throws {
        let rig = try DiscordInRig(params: ["max_speakers": "2"])
        for user in UInt64(1)...3 {
            rig.talk(try OpusTalk.tone(300 * Double(user), seconds: 0.5), userID: user, ssrc: UInt32(user))
        }
        try rig.tick(30)
        XCTAssertEqual(Set(rig.streams.keys), [1, 2])
        XCTAssertEqual(rig.node.ignoredSpeakers, 1)
        XCTAssertEqual(rig.node.ignoredFrames, 25)
        XCTAssertEqual(rig.events, [.speakerJoined(id: 1), .speakerJoined(id: 2)])
        XCTAssertEqual(rig.harness.metrics.drops, 25)
    }

    /// Outside a voice session the Discord nodes refuse to start, saying how to get one.
    func testWithoutAVoiceSessionTheNodesSayHowToGetOne() throws {
        for start in [
            { try NodeHarness<DiscordIn>().start() },
            { try NodeHarness<DiscordOut>(inputs: ["in": .pcm(.discord)]).start() },
        ] {
            XCTAssertThrowsError(try start()) { error in
                XCTAssertTrue("\(error)".contains("needs a Discord voice session"), "\(error)")
                XCTAssertTrue("\(error)".contains("without DISCORD_TOKEN, the built-in Discord simulator"), "\(error)")
            }
        }
        let chat = try NodeHarness<TextRelay>(params: ["sink": "chat"], inputs: ["in": MediaFormat(.text)])
        XCTAssertThrowsError(try chat.start()) { XCTAssertTrue("\($0)".contains("sink: chat needs"), "\($0)") }
        XCTAssertThrowsError(try DiscordInRig(params: ["jitter": "300ms"])) {
            XCTAssertTrue("\($0)".contains("above max_jitter"), "\($0)")
        }
    }
}
