import Codecs
import DiscordVoice
import Nodes
import Realtime
import RouterCore
import XCTest

/// DiscordIn -> Mixer -> DiscordOut as a pipeline file, run as a session with the voice connection's queues as
/// resources: a user's speech reaches the send queue, and taps change none of its bytes.
final class DiscordGraphTests: XCTestCase {
    override func setUp() { quietLog(self) }

    private static let bridge = """
        nodes:
          users: {type: DiscordIn}
          mix: {type: Mixer}
          speaker: {type: DiscordOut}
        links:
          - users -> mix.streams
          - mix -> speaker

        """

    /// Runs the pipeline for 2.4 s while user 1 speaks 2 s; returns every packet queued for the sender.
    private func run(_ yaml: String, speech: [Float]) throws -> [[UInt8]] {
        let received = VoiceReceiveQueue(capacity: 256), send = VoiceSendQueue(capacity: 256)
        var resources = SessionResources()
        resources.insert(received)
        resources.insert(send)
        let clock = ManualClock()
        let session = try EmbeddedSession(
            yaml: yaml, registry: .standard, clock: clock, resources: resources)
        var sent: [[UInt8]] = []
        let packets = try OpusTalk.encode(speech)
        for k in 0..<(packets.count + 20) {
            if k < packets.count {
                let header = RTPHeader(sequence: UInt16(k), timestamp: UInt32(k * 960), ssrc: 9)
                packets[k].withUnsafeBytes {
                    _ = received.push(userID: 1, header: header, arrival: clock.nowNanoseconds(), opus: $0)
                }
            }
            try session.tick()
            clock.advance(nanoseconds: Tick.nanoseconds)
            send.frames.drain { sent.append($0.bytes) }
        }
        session.stop()
        return sent
    }

    func testSpeechCrossesTheBridgeAndTapsChangeNoByte() throws {
        let dir = try TestFiles.directory(self)
        let speech = Signal.speechLike(rate: 48_000, frames: 96_000, channels: 2)
        let plain = try run(Self.bridge, speech: speech)
        XCTAssertEqual(plain.count, 120, "the mixer's frame every tick becomes a packet")
        let decoder = try OpusDecoder(sampleRate: 48_000, channels: 2)
        var heard: [Float] = []
        var room = [Float](repeating: 0, count: 5_760 * 2)
        for packet in plain {
            let n = try packet.withUnsafeBytes { p in
                try room.withUnsafeMutableBufferPointer { try decoder.decode(packet: p, into: $0) }
            }
            heard += room[0..<(n * 2)]
        }
        let best = Analysis.bestLag(
            Analysis.channel(speech, 0, of: 2), Analysis.channel(heard, 0, of: 2), in: 3_300...3_700,
            windowLength: 24_000)
        XCTAssertGreaterThan(best.correlation, 0.85, "the user's speech, twice through Opus")

        let tapped = Self.bridge.replacingOccurrences(
            of: "links:\n",
            with: """
                  rec: {type: WavTap, path: "\(dir.path)/speaker-{id}.wav"}
                  level: {type: Meter, per_speaker: true}
                  mixrec: {type: WavTap, path: "\(dir.path)/mix.wav"}
                links:
                  - users -> rec
                  - users -> level
                  - mix -> mixrec

                """)
        XCTAssertEqual(try run(tapped, speech: speech), plain, "byte for byte what the channel hears")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir.path)/speaker-1.wav"))
    }
}
