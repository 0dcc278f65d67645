import Codecs
import Foundation
import Nodes
import RouterCore
import XCTest

final class GreetingTests: XCTestCase {
    override func setUp() { quietLog(self) }

    /// Note frequencies (equal temperament, A4 = 440 Hz), independent of the node.
    static let notes: [String: Double] = ["C4": 261.63, "D4": 293.66, "E4": 329.63, "F4": 349.23, "G4": 392.00]
    /// Seed 000's melody: E4 E4 F4 G4 G4 F4 E4 D4 C4 C4 D4 E4 E4-- D4--- (the dotted E4, an eighth D4, a half D4).
    static let melody = ["E4", "E4", "F4", "G4", "G4", "F4", "E4", "D4", "C4", "C4", "D4", "E4", "E4", "D4", "D4"]

    /// Ticks the node until its output ends; returns the audio and the number of frames.
    private func play(_ h: NodeHarness<Greeting>, maxTicks: Int = 5_000) throws -> (audio: [Float], frames: Int) {
        var audio: [Float] = []
        var frames = 0
        for _ in 0..<maxTicks {
            try h.tick()
            if let f = h.pcmOutput().frame { audio += f; frames += 1 }
            if h.pcmOutput().ended { return (audio, frames) }
        }
        XCTFail("the greeting did not end within \(maxTicks) ticks")
        return (audio, frames)
    }

    func testMelodyNotesInOrderWithoutClicksAndEndsByItself() throws {
        XCTAssertEqual(Greeting.odeToJoy.map { $0.frequency }, Self.melody.map { Self.notes[$0]! }, "the node's melody table is seed 000's")
        let h = try NodeHarness<Greeting>(params: ["rate": "48000", "channels": "1", "tempo_bpm": "150", "volume": "0.3"])
        let (audio, frames) = try play(h)
        let rate = 48_000.0, beat = 60.0 / 150
        let totalBeats = Greeting.odeToJoy.reduce(0) { $0 + $1.beats }
        XCTAssertEqual(frames, Int((totalBeats * beat * 50).rounded(.up)), "ends by itself after the melody")
        var start = 0
        var found: [String] = []
        for (index, note) in Greeting.odeToJoy.enumerated() {
            let length = Int(note.beats * beat * rate)
            // The middle 60 % of the note (clear of attack and release).
            let window = audio[(start + length / 5)..<(start + length * 4 / 5)]
            let scores = Self.notes.mapValues { Analysis.goertzel(window, frequency: $0, rate: 48_000) }
            let best = scores.max { $0.value < $1.value }!
            found.append(best.key)
            XCTAssertEqual(best.value, 0.3, accuracy: 0.03, "note \(index) level")
            // No click at the boundaries: the envelope is ~0 at the start and end of every note.
            XCTAssertLessThan(abs(audio[start]), 0.001, "note \(index) starts at 0")
            XCTAssertLessThan(abs(audio[start + length - 1]), 0.01, "note \(index) ends at ~0")
            start += length
        }
        XCTAssertEqual(found, Self.melody)
        // Nowhere a jump larger than a full-scale sine at G4 can make (0.3 × 2π × 392 / 48000 ≈ 0.0154, plus the attack slope).
        var largest: Float = 0
        for i in 1..<audio.count { largest = max(largest, abs(audio[i] - audio[i - 1])) }
        XCTAssertLessThan(largest, 0.017, "no discontinuities")
        XCTAssertEqual(Analysis.peak(audio), 0.3, accuracy: 0.001)
        XCTAssertTrue(audio[start...].allSatisfy { $0 == 0 }, "only zero padding after the melody")
    }

    func testStereoChannelsAreIdentical() throws {
        let h = try NodeHarness<Greeting>(params: [:])
        let (audio, _) = try play(h)
        XCTAssertEqual(Analysis.channel(audio, 0, of: 2), Analysis.channel(audio, 1, of: 2))
    }

    /// In a graph, a `linkState(.live)` event emitted in tick k reaches the greeting in tick k+1: that frame fades to
    /// zero and the stream ends. Other link states do not stop it.
    func testStopOnLiveFadesOneTickAfterTheEvent() throws {
        Scripts.shared.setEvents("live-at-30", [10: [.linkState(.warmingUp)], 20: [.linkState(.waiting)], 30: [.linkState(.live)]])
        let yaml = """
        nodes:
          link: {type: EventScript, script: live-at-30}
          greet: {type: Greeting, rate: 48000, channels: 2, stop_on_live: true}
        links:
          - link -> greet.control
        """
        let session = try EmbeddedSession(yaml: yaml, registry: testRegistry)
        let lane = session.lane("greet.out") as! PCMLane
        let reference = Greeting.renderMelody(format: .discord, volume: 0.3, tempoBPM: 150)
        for t in 0...30 {
            try session.tick()
            let frame = Array(try XCTUnwrap(lane.frame, "tick \(t)"))
            XCTAssertEqual(frame, Array(reference[(t * 1920)..<((t + 1) * 1920)]), "tick \(t) unchanged")
            XCTAssertFalse(lane.ended, "tick \(t)")
        }
        try session.tick()  // tick 31: the event arrives
        let faded = Array(try XCTUnwrap(lane.frame))
        XCTAssertTrue(lane.ended, "ends in the tick the event arrives")
        for i in 0..<1920 {
            let original = reference[31 * 1920 + i]
            XCTAssertEqual(faded[i], original * Float(1920 - i) / 1920, accuracy: 1e-6)
        }
        XCTAssertLessThan(abs(faded[1919]), 0.001, "fades to zero")
        // The greeting was the only media source, so the session is over (event-only nodes do not hold it open).
        XCTAssertTrue(session.session.isFinished)
        session.stop()
    }

    func testStopOnLiveIgnoredWhenDisabledAndClosedOrFailedAlsoStop() throws {
        let off = try NodeHarness<Greeting>(params: ["stop_on_live": "false"], inputs: ["control": MediaFormat(.event)])
        off.eventInput("control").emit(.linkState(.live))
        try off.tick()
        try off.tick()
        XCTAssertFalse(off.pcmOutput().ended)
        for state in [LinkState.closed, .failed("boom")] {
            let h = try NodeHarness<Greeting>(params: ["stop_on_live": "true"], inputs: ["control": MediaFormat(.event)])
            try h.tick()
            h.eventInput("control").emit(.linkState(state))
            try h.tick()
            XCTAssertTrue(h.pcmOutput().ended, "\(state)")
        }
    }

    /// loop repeats the melody seamlessly until the link goes live; loop without stop_on_live is rejected.
    func testLoopRepeatsUntilLive() throws {
        let h = try NodeHarness<Greeting>(params: ["rate": "24000", "channels": "1", "stop_on_live": "true", "loop": "true"],
                                          inputs: ["control": MediaFormat(.event)])
        var audio: [Float] = []
        for _ in 0..<700 {
            try h.tick()
            audio += try XCTUnwrap(h.pcmOutput().frame)
        }
        let once = 320 * 480
        XCTAssertEqual(Array(audio[once..<(2 * once)]), Array(audio[0..<once]), "second repetition identical")
        XCTAssertEqual(Array(audio[(2 * once)...]), Array(audio[0..<(audio.count - 2 * once)]))
        h.eventInput("control").emit(.linkState(.live))
        try h.tick()
        XCTAssertTrue(h.pcmOutput().ended)
        XCTAssertThrowsError(try NodeHarness<Greeting>(params: ["loop": "true"])) { error in
            XCTAssertTrue("\(error)".contains("stop_on_live"), "\(error)")
        }
        // max_duration bounds a loop that is never stopped.
        let bounded = try NodeHarness<Greeting>(params: ["rate": "8000", "channels": "1", "stop_on_live": "true", "loop": "true", "max_duration": "10s"])
        let (_, frames) = try play(bounded)
        XCTAssertTrue((500...820).contains(frames), "\(frames) frames")
    }

    /// A WAV file at another rate and channel count is resampled, keeps its tone, level and length.
    func testWavFileIsResampled() throws {
        let dir = try TestFiles.directory(self)
        let path = dir.appendingPathComponent("hello.wav").path
        var tone = Signal.tone(440, rate: 16_000, frames: 16_000, amplitude: 0.5)
        for i in 0..<160 { tone[i] *= Float(i) / 160; tone[tone.count - 1 - i] *= Float(i) / 160 }
        try TestFiles.writeWAV(path, tone, rate: 16_000, channels: 1, encoding: .float32)
        let h = try NodeHarness<Greeting>(params: ["file": path, "rate": "48000", "channels": "2"])
        let (audio, frames) = try play(h)
        XCTAssertEqual(frames, 50, "1 s at 48 kHz")
        let left = Analysis.channel(audio, 0, of: 2)
        XCTAssertEqual(left, Analysis.channel(audio, 1, of: 2))
        XCTAssertEqual(Analysis.goertzel(left[4800..<43200], frequency: 440, rate: 48_000), 0.5, accuracy: 0.01)
        // Time-aligned with the file and nothing cut at the end.
        let reference = Signal.speechLike(rate: 16_000, frames: 16_000)
        try TestFiles.writeWAV(path, reference, rate: 16_000, channels: 1, encoding: .float32)
        let speech = try play(try NodeHarness<Greeting>(params: ["file": path, "rate": "48000", "channels": "1"])).audio
        let best = Analysis.bestLag(reference, Analysis.decimate(speech, by: 3), in: -50...50)
        XCTAssertEqual(best.lag, 0, "greeting file aligned")
        XCTAssertGreaterThan(best.correlation, 0.99)
        let tail = (reference.count - 80)..<reference.count
        XCTAssertGreaterThan(Analysis.correlation(reference, Analysis.decimate(speech, by: 3), window: tail), 0.9, "last 5 ms present")
    }
}
