import Codecs
import Foundation
import Nodes
import RouterCore
import XCTest

final class GreetingTests: XCTestCase {
    override func setUp() { quietLog(self) }

    /// Note frequencies (equal temperament, A4 = 440 Hz, from a standard pitch table), independent of the node.
    static let notes: [String: Double] = [
        "B3": 246.94, "C4": 261.63, "D4": 293.66, "E4": 329.63, "F4": 349.23, "G4": 392.00, "A4": 440.00,
        "A#4": 466.16, "C5": 523.25,
    ]
    /// Seed 000's melody, "E4 E4 F4 G4 G4 F4 E4 D4 C4 C4 D4 E4 E4-- D4---", read by hand: 14 notes, each '-' adds half
    /// a beat, so the last two last 2 and 2.5 beats.
    static let seedNotes = ["E4", "E4", "F4", "G4", "G4", "F4", "E4", "D4", "C4", "C4", "D4", "E4", "E4", "D4"]
    static let seedBeats: [Double] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2.5]

    /// Ticks the node until its output ends; returns the audio and the number of frames.
    private func play(_ h: NodeHarness<Greeting>, maxTicks: Int = 5_000) throws -> (audio: [Float], frames: Int) {
        var audio: [Float] = []
        var frames = 0
        for _ in 0..<maxTicks {
            try h.tick()
            if let f = h.pcmOutput().frame {
                audio += f
                frames += 1
            }
            if h.pcmOutput().ended { return (audio, frames) }
        }
        XCTFail("the greeting did not end within \(maxTicks) ticks")
        return (audio, frames)
    }

    /// Finds the notes in rendered mono audio without knowing the melody: a note starts where the level rises after
    /// a quiet stretch (the release and attack between notes); its pitch comes from interpolated upward zero crossings
    /// in its middle. Returns (frequency in Hz, length in seconds) per note.
    static func measureNotes(_ audio: [Float], rate: Int, volume: Float) -> [(frequency: Double, seconds: Double)] {
        let block = rate / 1000
        let loud = stride(from: 0, to: audio.count - block, by: block).map { start in
            audio[start..<(start + block)].reduce(Float(0)) { max($0, abs($1)) } > 0.3 * volume
        }
        var onsets: [Int] = []
        var quietRun = 5
        for (i, isLoud) in loud.enumerated() {
            if isLoud {
                if quietRun >= 5 { onsets.append(i * block) }
                quietRun = 0
            } else {
                quietRun += 1
            }
        }
        guard let lastSound = audio.lastIndex(where: { $0 != 0 }), let first = onsets.first else { return [] }
        // The attack delays each detected onset equally; the first note starts at sample 0, which gives that delay.
        let ends = onsets.dropFirst().map { $0 } + [lastSound + 1 + first]
        return zip(onsets, ends).map { onset, end in
            let middle = audio[(onset + rate / 50)..<(end - rate / 20)]
            var crossings: [Double] = []
            for i in (middle.startIndex + 1)..<middle.endIndex where audio[i - 1] < 0 && audio[i] >= 0 {
                crossings.append(Double(i - 1) + Double(audio[i - 1] / (audio[i - 1] - audio[i])))
            }
            let frequency = Double(crossings.count - 1) * Double(rate) / (crossings.last! - crossings.first!)
            return (frequency, Double(end - onset) / Double(rate))
        }
    }

    func testDefaultMelodyIsSeed000Literally() throws {
        XCTAssertEqual(Greeting.odeToJoy, "E4 E4 F4 G4 G4 F4 E4 D4 C4 C4 D4 E4 E4-- D4---", "seed 000, line 93")
        let h = try NodeHarness<Greeting>(params: [
            "rate": "48000", "channels": "1", "tempo_bpm": "150", "volume": "0.3",
        ])
        let (audio, frames) = try play(h)
        let beat = 60.0 / 150
        let totalSeconds = Self.seedBeats.reduce(0, +) * beat
        XCTAssertEqual(frames, Int((totalSeconds * 50).rounded(.up)), "ends by itself after the melody")
        let measured = Self.measureNotes(audio, rate: 48_000, volume: 0.3)
        XCTAssertEqual(measured.count, Self.seedNotes.count, "notes found: \(measured)")
        for (index, (note, found)) in zip(zip(Self.seedNotes, Self.seedBeats), measured).enumerated() {
            XCTAssertEqual(found.frequency, Self.notes[note.0]!, accuracy: 0.5, "note \(index) (\(note.0)) pitch")
            XCTAssertEqual(found.seconds, note.1 * beat, accuracy: 0.004, "note \(index) (\(note.0)) length")
        }
    }

    func testMelodyHasNoClicksAndFullLevel() throws {
        let h = try NodeHarness<Greeting>(params: [
            "rate": "48000", "channels": "1", "tempo_bpm": "150", "volume": "0.3",
        ])
        let (audio, _) = try play(h)
        // Nowhere a jump larger than a full-scale sine at G4 can make (0.3 × 2π × 392 / 48000 ≈ 0.0154, plus the attack slope).
        var largest: Float = 0
        for i in 1..<audio.count { largest = max(largest, abs(audio[i] - audio[i - 1])) }
        XCTAssertLessThan(largest, 0.017, "no discontinuities")
        XCTAssertEqual(Analysis.peak(audio), 0.3, accuracy: 0.001)
        XCTAssertLessThan(abs(audio[0]), 0.001, "starts at 0")
        let lastSound = try XCTUnwrap(audio.lastIndex { $0 != 0 })
        XCTAssertEqual(
            Double(lastSound + 1) / 48_000, Self.seedBeats.reduce(0, +) * 0.4, accuracy: 0.001,
            "only zero padding after the melody")
        XCTAssertEqual(
            Analysis.goertzel(audio[4_800..<14_400], frequency: 329.63, rate: 48_000), 0.3, accuracy: 0.03,
            "first note level")
    }

    /// Sharps, flats, octaves and lengths of any melody come out as written.
    func testMelodyNotationSharpsFlatsAndLengths() throws {
        let h = try NodeHarness<Greeting>(params: [
            "rate": "48000", "channels": "1", "tempo_bpm": "120", "volume": "0.5",
            "melody": "A4 A#4 Bb4 C5- Cb4 E#4---",
        ])
        let measured = Self.measureNotes(try play(h).audio, rate: 48_000, volume: 0.5)
        let expected: [(String, Double)] = [("A4", 1), ("A#4", 1), ("A#4", 1), ("C5", 1.5), ("B3", 1), ("F4", 2.5)]
        XCTAssertEqual(measured.count, expected.count, "\(measured)")
        for (index, (note, found)) in zip(expected, measured).enumerated() {
            XCTAssertEqual(found.frequency, Self.notes[note.0]!, accuracy: 0.5, "note \(index) (\(note.0)) pitch")
            XCTAssertEqual(found.seconds, note.1 * 0.5, accuracy: 0.004, "note \(index) (\(note.0)) length")
        }
    }

    /// Bad notation is a clear error when the pipeline is checked, naming the note.
    func testInvalidMelodyIsRejectedAtCheckTime() throws {
        for (melody, culprit) in [
            ("E4 H4", "note 2, 'H4'"), ("E", "note 1, 'E'"), ("E4x", "note 1, 'E4x'"),
            ("e4", "note 1, 'e4'"), ("E9", "note 1, 'E9'"), ("C4 - D4", "note 2, '-'"),
        ] {
            var params = NodeRegistry.defaults(of: Greeting.self)
            params["melody"] = .string(melody)
            let problems = Greeting.check(params)
            XCTAssertEqual(problems.map(\.parameter), ["melody"], melody)
            XCTAssertTrue(problems.first?.message.contains("melody \(culprit), is not a note") == true, "\(problems)")
            XCTAssertThrowsError(try Greeting.parseMelody(melody), melody)
        }
        XCTAssertThrowsError(try Greeting.parseMelody("  ")) { XCTAssertTrue("\($0)".contains("no notes"), "\($0)") }
        XCTAssertTrue(Greeting.check(NodeRegistry.defaults(of: Greeting.self)).isEmpty, "the default melody is valid")
    }

    func testStereoChannelsAreIdentical() throws {
        let h = try NodeHarness<Greeting>(params: [:])
        let (audio, _) = try play(h)
        XCTAssertEqual(Analysis.channel(audio, 0, of: 2), Analysis.channel(audio, 1, of: 2))
    }

    /// In a graph, a `linkState(.live)` event emitted in tick k reaches the greeting in tick k+1: that frame fades to
    /// zero and the stream ends. Other link states do not stop it.
    func testStopOnLiveFadesOneTickAfterTheEvent() throws {
        Scripts.shared.setEvents(
            "live-at-30", [10: [.linkState(.warmingUp)], 20: [.linkState(.waiting)], 30: [.linkState(.live)]])
        let yaml = """
            nodes:
              link: {type: EventScript, script: live-at-30}
              greet: {type: Greeting, rate: 48000, channels: 2, stop_on_live: true}
            links:
              - link -> greet.control
            """
        let session = try EmbeddedSession(yaml: yaml, registry: testRegistry)
        let lane = session.lane("greet.out") as! PCMLane
        let reference = Greeting.renderMelody(
            try Greeting.parseMelody(Greeting.odeToJoy), format: .discord, volume: 0.3, tempoBPM: 150)
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
            let h = try NodeHarness<Greeting>(
                params: ["stop_on_live": "true"], inputs: ["control": MediaFormat(.event)])
            try h.tick()
            h.eventInput("control").emit(.linkState(state))
            try h.tick()
            XCTAssertTrue(h.pcmOutput().ended, "\(state)")
        }
    }

    /// loop repeats the melody seamlessly until the link goes live; loop without stop_on_live is rejected.
    func testLoopRepeatsUntilLive() throws {
        let h = try NodeHarness<Greeting>(
            params: ["rate": "24000", "channels": "1", "stop_on_live": "true", "loop": "true"],
            inputs: ["control": MediaFormat(.event)])
        var audio: [Float] = []
        for _ in 0..<700 {
            try h.tick()
            audio += try XCTUnwrap(h.pcmOutput().frame)
        }
        let once = 330 * 480  // 16.5 beats at 150 bpm = 6.6 s
        XCTAssertEqual(Array(audio[once..<(2 * once)]), Array(audio[0..<once]), "second repetition identical")
        XCTAssertEqual(Array(audio[(2 * once)...]), Array(audio[0..<(audio.count - 2 * once)]))
        h.eventInput("control").emit(.linkState(.live))
        try h.tick()
        XCTAssertTrue(h.pcmOutput().ended)
        XCTAssertThrowsError(try NodeHarness<Greeting>(params: ["loop": "true"])) { error in
            XCTAssertTrue("\(error)".contains("stop_on_live"), "\(error)")
        }
        // max_duration bounds a loop that is never stopped.
        let bounded = try NodeHarness<Greeting>(params: [
            "rate": "8000", "channels": "1", "stop_on_live": "true", "loop": "true", "max_duration": "10s",
        ])
        let (_, frames) = try play(bounded)
        XCTAssertTrue((500...820).contains(frames), "\(frames) frames")
    }

    /// A WAV file at another rate and channel count is resampled, keeps its tone, level and length.
    func testWavFileIsResampled() throws {
        let dir = try TestFiles.directory(self)
        let path = dir.appendingPathComponent("hello.wav").path
        var tone = Signal.tone(440, rate: 16_000, frames: 16_000, amplitude: 0.5)
        for i in 0..<160 {
            tone[i] *= Float(i) / 160
            tone[tone.count - 1 - i] *= Float(i) / 160
        }
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
        XCTAssertGreaterThan(
            Analysis.correlation(reference, Analysis.decimate(speech, by: 3), window: tail), 0.9, "last 5 ms present")
    }
}
