import Foundation
import Nodes
import RouterCore
import XCTest

final class MixerTests: XCTestCase {
    let format = PCMFormat(sampleRate: 48_000, channels: 2)

    override func setUp() { quietLog(self) }

    private func harness(_ params: [String: String] = [:], streams: Bool = true) throws -> NodeHarness<Mixer> {
        var inputs: [String: MediaFormat] = ["in": .pcm(format)]
        if streams { inputs["streams"] = MediaFormat(.pcmStreams, pcm: format) }
        return try NodeHarness<Mixer>(params: params, inputs: inputs)
    }

    /// Four linked inputs (a graph with four sources), each active on its own schedule: the output is the sum of the
    /// active inputs divided by how many are active (seed 000), silence when none is.
    func testFourLinkedInputsAreAveragedOverActiveOnes() throws {
        let n = format.samplesPerFrame
        let ticks = 48
        var scripts: [[[Float]?]] = []
        for k in 0..<4 {
            let tone = Signal.tone(200 * Double(k + 1), rate: 48_000, frames: ticks * 960, channels: 2, amplitude: 0.2)
            let all = frames(of: tone, samplesPerFrame: n)
            // Input k is active in tick t when bit k of t is set (t % 16 covers every subset, including none).
            scripts.append((0..<ticks).map { t in (t % 16) & (1 << k) != 0 ? all[t] : nil })
            Scripts.shared.setPCM("mix4-\(k)", scripts[k])
        }
        let yaml = """
            nodes:
              a: {type: ScriptedSource, script: mix4-0}
              b: {type: ScriptedSource, script: mix4-1}
              c: {type: ScriptedSource, script: mix4-2}
              d: {type: ScriptedSource, script: mix4-3}
              mix: {type: Mixer, rate: 48000, channels: 2}
            links:
              - a -> mix
              - b -> mix
              - c -> mix
              - d -> mix
            """
        let session = try EmbeddedSession(yaml: yaml, registry: testRegistry)
        let out = session.lane("mix.out") as! PCMLane
        let mixer = session.session.graph.node(named: "mix") as! Mixer
        for t in 0..<ticks {
            try session.tick()
            let active = (0..<4).compactMap { scripts[$0][t] }
            XCTAssertEqual(mixer.activeInputs, active.count, "tick \(t)")
            guard let frame = out.frame else {
                XCTFail("no mix at tick \(t)")
                continue
            }
            var worst: Float = 0
            for i in 0..<n {
                let expected = active.isEmpty ? 0 : active.reduce(Float(0)) { $0 + $1[i] } / Float(active.count)
                worst = max(worst, abs(frame[i] - expected))
            }
            XCTAssertLessThan(worst, 1e-6, "tick \(t): \(active.count) active")
        }
        session.stop()
    }

    /// Per-speaker streams appear and disappear tick to tick, mixed with a linked input: each tick's output is the
    /// average of exactly the streams present in that tick.
    func testSpeakerStreamsComeAndGo() throws {
        let h = try harness()
        let n = format.samplesPerFrame
        var rng = Signal.Random(seed: 7)
        let speakers: [UInt64] = [7, 9, 42, 1001]
        for t in 0..<200 {
            var expected = [Float](repeating: 0, count: n)
            var count = 0
            // Speaker s is present in runs: joins and leaves at different ticks.
            for (k, id) in speakers.enumerated() where ((t / (3 + k)) + k) % 2 == 0 || rng.int(10) == 0 {
                let level = Float(k + 1) * 0.05 * (rng.int(2) == 0 ? 1 : -1)
                let frame = (0..<n).map { i in level * Float(sin(Double(i) * 0.01 * Double(k + 1))) }
                h.streamsInput("streams").append(id: id) { buf in _ = buf.update(fromContentsOf: frame) }
                for i in 0..<n { expected[i] += frame[i] }
                count += 1
            }
            if t % 5 == 0 {
                h.pcmInput().write { buf in buf.update(repeating: 0.1) }
                for i in 0..<n { expected[i] += 0.1 }
                count += 1
            }
            try h.tick()
            XCTAssertEqual(h.node.activeInputs, count, "tick \(t)")
            let out = try XCTUnwrap(h.pcmOutput().frame, "tick \(t)")
            var worst: Float = 0
            for i in 0..<n { worst = max(worst, abs(out[i] - (count > 0 ? expected[i] / Float(count) : 0))) }
            XCTAssertLessThan(worst, 1e-6, "tick \(t), \(count) active")
        }
    }

    func testSilenceWhenNobodyIsActive() throws {
        let h = try harness()
        h.streamsInput("streams").append(id: 1) { $0.update(repeating: 0.5) }
        try h.tick()
        XCTAssertEqual(h.pcmOutput().frame?.first, 0.5)
        for _ in 0..<5 {
            try h.tick()
            let out = try XCTUnwrap(h.pcmOutput().frame, "the mix is written every tick, as silence when nobody speaks")
            XCTAssertTrue(out.allSatisfy { $0 == 0 })
            XCTAssertEqual(h.node.activeInputs, 0)
        }
    }

    /// Loud inputs never leave -1...1, in both modes, with and without the soft limiter.
    func testLoudInputsNeverClip() throws {
        for (mode, limiter) in [("average", "true"), ("sum", "true"), ("sum", "false"), ("average", "false")] {
            let h = try harness(["mode": mode, "limiter": limiter, "gain_db": "12"])
            var rng = Signal.Random(seed: 3)
            var maximum: Float = 0
            for _ in 0..<100 {
                for id in 0..<UInt64(4) {
                    h.streamsInput("streams").append(id: id) { buf in for i in 0..<buf.count { buf[i] = 3 * rng.unit() }
                    }
                }
                h.pcmInput().write { buf in buf.update(repeating: 1) }
                try h.tick()
                maximum = max(maximum, Analysis.peak(Array(try XCTUnwrap(h.pcmOutput().frame))))
            }
            if limiter == "true" {
                XCTAssertLessThan(maximum, 1, "\(mode) with limiter")
                XCTAssertGreaterThan(maximum, 0.95, "\(mode): loud input should come close to full scale")
            } else {
                XCTAssertLessThanOrEqual(maximum, 1, "\(mode) hard clip")
                XCTAssertEqual(maximum, 1, "\(mode) hard clip reaches full scale")
            }
            XCTAssertGreaterThan(h.node.limitedSamples, 0)
        }
    }

    /// The soft limiter is the identity below -1 dBFS, monotonic, odd-symmetric and bounded by 1 above it.
    func testSoftLimiterShape() throws {
        let h = try harness(["mode": "sum"], streams: false)
        let n = format.samplesPerFrame
        let ramp = (0..<n).map { Float(-6 + 12 * Double($0) / Double(n - 1)) }
        h.pcmInput().write { buf in _ = buf.update(fromContentsOf: ramp) }
        try h.tick()
        let out = Array(try XCTUnwrap(h.pcmOutput().frame))
        for i in 1..<n { XCTAssertGreaterThanOrEqual(out[i], out[i - 1], "monotonic at input \(ramp[i])") }
        for i in 0..<n {
            XCTAssertLessThan(abs(out[i]), 1, "bounded at input \(ramp[i])")
            if abs(ramp[i]) <= 0.891 { XCTAssertEqual(out[i], ramp[i], accuracy: 1e-6, "identity below the knee") }
            XCTAssertEqual(out[i], -out[n - 1 - i], accuracy: 1e-5, "odd symmetry")
        }
        // Continuous at the knee and close to full scale far above it.
        let aboveKnee = out.indices.first { ramp[$0] > 0.9 }!
        XCTAssertEqual(out[aboveKnee], 0.891, accuracy: 0.02)
        XCTAssertGreaterThan(out[n - 1], 0.98)
    }

    func testSumModeAndGain() throws {
        let cases: [(mode: String, gain: String, expected: Float)] = [
            ("sum", "0", 0.5), ("average", "0", 0.25), ("sum", "-6.0206", 0.25), ("average", "6.0206", 0.5),
            ("average", "-60", 0.00025),
        ]
        for c in cases {
            let h = try harness(["mode": c.mode, "gain_db": c.gain])
            h.pcmInput().write { $0.update(repeating: 0.2) }
            h.streamsInput("streams").append(id: 5) { $0.update(repeating: 0.3) }
            try h.tick()
            let out = try XCTUnwrap(h.pcmOutput().frame)
            XCTAssertEqual(out[0], c.expected, accuracy: c.expected * 1e-3, "\(c.mode) gain \(c.gain)")
            XCTAssertEqual(out[out.count - 1], c.expected, accuracy: c.expected * 1e-3)
        }
        // A single active input in average mode passes unchanged.
        let h = try harness()
        h.pcmInput().write { $0.update(repeating: 0.7) }
        try h.tick()
        XCTAssertEqual(h.pcmOutput().frame?[10], 0.7)
    }

    /// A per-speaker stream that appears emits speakerJoined in that tick; one missing from a tick emits speakerLeft.
    func testSpeakerJoinedAndLeftEvents() throws {
        let h = try harness()
        var rng = Signal.Random(seed: 11)
        var present: Set<UInt64> = []
        var joins = 0, leaves = 0
        for t in 0..<300 {
            var now: Set<UInt64> = []
            for id: UInt64 in [3, 8, 21, 1 << 40] where rng.int(4) != 0 { now.insert(id) }
            if t > 250 { now = [] }  // everyone leaves
            for id in now.sorted() { h.streamsInput("streams").append(id: id) { $0.update(repeating: 0.2) } }
            try h.tick()
            var joined: Set<UInt64> = [], left: Set<UInt64> = []
            for event in h.eventOutput("events").events {
                switch event {
                case .speakerJoined(let id): XCTAssertTrue(joined.insert(id).inserted, "tick \(t): \(id) joined twice")
                case .speakerLeft(let id): XCTAssertTrue(left.insert(id).inserted, "tick \(t): \(id) left twice")
                default: XCTFail("tick \(t): unexpected \(event)")
                }
            }
            XCTAssertEqual(joined, now.subtracting(present), "tick \(t) joins")
            XCTAssertEqual(left, present.subtracting(now), "tick \(t) leaves")
            joins += joined.count
            leaves += left.count
            present = now
        }
        XCTAssertGreaterThan(joins, 50)
        XCTAssertEqual(joins, leaves, "everyone who joined has left")
    }

    /// In a pipeline, a LogTap on the mixer's events shows the session start, speakers joining and leaving, and the
    /// session stopping (the tick after the stop request).
    func testSpeakerAndSessionEventsAreVisibleWithALogTap() throws {
        Scripts.shared.setSpeakers(
            "two-speakers", [[], [5], [5, 6], [6], [6], [], [5]] + [[UInt64]](repeating: [5], count: 10))
        let yaml = """
            nodes:
              voices: {type: ScriptedSpeakers, script: two-speakers}
              mix:    {type: Mixer}
              log:    {type: LogTap, kind: event, max_per_second: 1000}
            links:
              - voices -> mix.streams
              - mix.events -> log
            """
        RouterLog.shared.level = .info
        let lines = try captureLog {
            let e = try EmbeddedSession(yaml: yaml, registry: testRegistry)
            try e.tick(10)
            e.session.requestStop()
            try e.tick()
            e.stop()
        }.filter { $0.hasPrefix("[info] log:") }
        // Mixer events arrive one tick after the mixer emits them; session events in the tick they happen.
        XCTAssertEqual(
            lines,
            [
                "[info] log: event: session started",
                "[info] log: event: speaker 5 joined",
                "[info] log: event: speaker 6 joined",
                "[info] log: event: speaker 5 left",
                "[info] log: event: speaker 6 left",
                "[info] log: event: speaker 5 joined",
                "[info] log: event: session stopping",
            ])
    }

    /// A real-time run stopped from another thread: the LogTap, logging from the audio thread, still shows
    /// "session stopping", and every queued line is written by the time `run` returns.
    func testSessionStoppingReachesATapInARealTimeRun() throws {
        Scripts.shared.setSpeakers("one-speaker", [[UInt64]](repeating: [9], count: 10_000))
        let yaml = """
            nodes:
              voices: {type: ScriptedSpeakers, script: one-speaker}
              mix:    {type: Mixer}
              log:    {type: LogTap, kind: event, max_per_second: 1000}
            links:
              - voices -> mix.streams
              - mix.events -> log
            """
        let pipeline = try PipelineValidator(registry: testRegistry).validate(
            yaml: yaml, file: "t.yaml", environment: PipelineEnvironment([:]))
        let session = Session(graph: try Graph(pipeline))
        RouterLog.shared.level = .info
        var outcome: SessionOutcome?
        let lines = captureLog {
            Thread {
                usleep(200_000)
                session.requestStop()
            }.start()
            outcome = session.run(realtime: true, maxTicks: 500)
        }.filter { $0.hasPrefix("[info] log:") }
        XCTAssertEqual(outcome, .stopped)
        XCTAssertEqual(
            lines,
            [
                "[info] log: event: session started", "[info] log: event: speaker 9 joined",
                "[info] log: event: session stopping",
            ])
    }
}
