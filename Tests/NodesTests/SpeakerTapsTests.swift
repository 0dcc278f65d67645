import Foundation
import Nodes
import RouterCore
import XCTest

/// Taps on per-speaker edges: a WAV file per speaker, a level reading per speaker.
final class SpeakerTapsTests: XCTestCase {
    override func setUp() { quietLog(self) }

    private let format = MediaFormat(.pcmStreams, pcm: .personaPlex)

    /// Speaker 1 in every tick, speaker 2 from tick 2 and missing in tick 4: WavTap writes one file each, from the
    /// speaker's first frame, silence where the speaker had no stream; WavOut skips the gap instead.
    func testWavTapAndWavOutWriteOneFilePerSpeaker() throws {
        let dir = try TestFiles.directory(self)
        let tap = try NodeHarness<WavTap>(
            params: ["path": dir.appendingPathComponent("tap/speaker-{id}.wav").path], inputs: ["in": format])
        let out = try NodeHarness<WavOut>(
            params: ["path": dir.appendingPathComponent("out-{id}.wav").path], inputs: ["in": format])
        for t in 0..<6 {
            for h in [tap.streamsInput("in"), out.streamsInput("in")] {
                h.append(id: 1) { $0.update(repeating: 0.25) }
                if t >= 2 && t != 4 { h.append(id: 2) { $0.update(repeating: -0.5) } }
            }
            try tap.tick()
            try out.tick()
        }
        try tap.finish()
        try out.finish()
        XCTAssertEqual(
            tap.node.recordedPaths.map { ($0 as NSString).lastPathComponent }, ["speaker-1.wav", "speaker-2.wav"])
        let one = try TestFiles.readWAV(dir.appendingPathComponent("tap/speaker-1.wav").path).samples
        let two = try TestFiles.readWAV(dir.appendingPathComponent("tap/speaker-2.wav").path).samples
        XCTAssertEqual(one.count, 6 * 480)
        XCTAssertEqual(one.first ?? 0, 0.25, accuracy: 0.001)
        XCTAssertEqual(two.count, 4 * 480, "from its first frame (tick 2) on")
        XCTAssertEqual(two[2 * 480], 0, "tick 4: the gap is silence")
        XCTAssertEqual(two[3 * 480], -0.5, accuracy: 0.001)
        let skipped = try TestFiles.readWAV(dir.appendingPathComponent("out-2.wav").path).samples
        XCTAssertEqual(skipped.count, 3 * 480, "WavOut skips the tick without a frame")
    }

    /// A plain path keeps a plain PCM input; {id} makes it per-speaker (the kind validation checks links against).
    func testThePathDecidesTheInputKind() throws {
        let registry = NodeRegistry.standard
        let yaml = """
            nodes:
              users: {type: DiscordIn}
              rec: {type: WavTap, path: "speaker.wav"}
            links:
              - users -> rec
            """
        XCTAssertThrowsError(
            try PipelineValidator(registry: registry).validate(
                yaml: yaml, file: "t.yaml", environment: PipelineEnvironment([:])))
        let fixed = yaml.replacingOccurrences(of: "speaker.wav", with: "speaker-{id}.wav")
        XCTAssertNoThrow(
            try PipelineValidator(registry: registry).validate(
                yaml: fixed, file: "t.yaml", environment: PipelineEnvironment([:])))
    }

    /// per_speaker: one reading per speaker; a speaker absent for a whole interval is no longer reported.
    func testMeterMetersEachSpeaker() throws {
        let h = try NodeHarness<Meter>(params: ["per_speaker": "true", "interval": "100ms"], inputs: ["in": format])
        for t in 0..<10 {
            h.streamsInput("in").append(id: 7) { $0.update(repeating: 0.5) }
            if t < 5 { h.streamsInput("in").append(id: 8) { $0.update(repeating: 0.1) } }
            try h.tick()
        }
        XCTAssertEqual(h.node.lastSpeakerReadings[7]?.rms ?? 0, 20 * log10(0.5), accuracy: 0.01)
        XCTAssertEqual(h.node.lastSpeakerReadings[8]?.peak ?? 0, 20 * log10(0.1), accuracy: 0.01)
        XCTAssertNil(h.node.lastReading, "no plain-PCM reading")
    }
}
