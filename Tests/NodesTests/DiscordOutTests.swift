import Codecs
import DiscordVoice
import Nodes
import Realtime
import RouterCore
import XCTest

/// DiscordOut and the chat outbox: what the voice connection's sender and the bot's chat sender receive.
final class DiscordOutTests: XCTestCase {
    override func setUp() { quietLog(self) }

    /// Takes every packet queued for the paced sender.
    private func drain(_ queue: VoiceSendQueue) -> [[UInt8]] {
        var packets: [[UInt8]] = []
        queue.frames.drain { packets.append($0.bytes) }
        return packets
    }

    /// Each frame becomes one Opus packet in the send queue that libopus decodes back to the same audio; a tick
    /// without a frame sends nothing; a full queue refuses and counts.
    func testFramesBecomeDecodableOpusPacketsInTheSendQueue() throws {
        let queue = VoiceSendQueue()
        var resources = SessionResources()
        resources.insert(queue)
        let h = try NodeHarness<DiscordOut>(inputs: ["in": .pcm(.discord)], resources: resources)
        let input = Signal.speechLike(rate: 48_000, frames: 48_000, channels: 2)
        let decoder = try OpusDecoder(sampleRate: 48_000, channels: 2)
        var decoded: [Float] = []
        var out = [Float](repeating: 0, count: 5_760 * 2)
        for frame in frames(of: input, samplesPerFrame: 1_920) {
            h.pcmInput().write { _ = $0.update(fromContentsOf: frame) }
            try h.tick()
            try h.tick()  // no frame: nothing sent
            let packets = drain(queue)
            XCTAssertEqual(packets.count, 1)
            let n = try packets[0].withUnsafeBytes { p in
                try out.withUnsafeMutableBufferPointer { try decoder.decode(packet: p, into: $0) }
            }
            XCTAssertEqual(n, 960)
            decoded += out[0..<1_920]
        }
        let best = Analysis.bestLag(
            Analysis.channel(input, 0, of: 2), Analysis.channel(decoded, 0, of: 2), in: 250...400)
        XCTAssertGreaterThan(best.correlation, 0.9, "what the channel hears is what came in")
        XCTAssertEqual(h.node.framesSent, 50)
        for _ in 0..<20 {
            h.pcmInput().writeSilence()
            try h.tick()
        }
        XCTAssertEqual(h.node.queueFullDrops, 20 - queue.frames.capacity)
        XCTAssertEqual(h.metrics.drops, h.node.queueFullDrops)
    }

    /// sink: chat puts each sentence (with its prefix, without the log's timestamp) in the session's outbox.
    func testTextRelayChatSinkPostsSentences() throws {
        let outbox = TextOutbox()
        var resources = SessionResources()
        resources.insert(outbox)
        let h = try NodeHarness<TextRelay>(
            params: ["sink": "chat", "prefix": "AI: "], inputs: ["in": MediaFormat(.text)], resources: resources)
        for piece in ["Hello", " there.", " How", " are", " you?"] {
            h.packetInput().append(Array(piece.utf8))
            try h.tick()
        }
        var chat: [String] = []
        XCTAssertEqual(outbox.drain { chat.append($0) }, 2)
        XCTAssertEqual(chat, ["AI: Hello there.", "AI: How are you?"])
        XCTAssertEqual(h.packetOutput().count, 1, "the out port still carries the sentence")
    }

    /// A sentence longer than a slot is cut at a character boundary; a full outbox refuses and counts.
    func testTextOutboxCutsAtCharacterBoundariesAndCountsDrops() {
        let outbox = TextOutbox(capacity: 2, slotBytes: 9)
        XCTAssertTrue(outbox.post("ééééé"))  // 10 bytes: the fifth é would be split
        XCTAssertTrue(outbox.post("ok"))
        XCTAssertFalse(outbox.post("full"))
        var got: [String] = []
        outbox.drain { got.append($0) }
        XCTAssertEqual(got, ["éééé", "ok"])
        XCTAssertEqual(outbox.truncated, 1)
        XCTAssertEqual(outbox.dropped, 1)
        XCTAssertTrue(outbox.post("again"), "drained slots are reused")
    }
}
