import Foundation
import XCTest

@testable import RouterCore

// Small node types for testing the engine without codecs or files. Each records what it saw so tests can assert on it.

/// Source: writes `frames` PCM frames (0: never ends) whose samples all equal the tick index, then ends.
/// Optional `control` event input; every event received is recorded with the tick it arrived in.
final class TestSource: NodeType {
    static let typeName = "TestSource"
    static let summary = "Test source: frames filled with the tick index."
    static let parameters: [ParameterSpec] = [
        .optional("frames", .int(0...1_000_000), default: .int(3), "Frames before the end (0: never ends)."),
        .optional("rate", .int(8_000...192_000), default: .int(48_000), "Sample rate."),
        .optional("channels", .int(1...8), default: .int(2), "Channels."),
        .optional(
            "pace", .choice(["indifferent", "realtime", "fast"]), default: .string("indifferent"), "Pacing preference."),
        .optional("fail_start", .bool, default: .bool(false), "Throw from start()."),
    ]
    static func ports(_ params: Parameters) -> PortLayout {
        let format = PCMFormat(sampleRate: params.int("rate")!, channels: params.int("channels")!)
        return PortLayout(
            inputs: [InputSpec("control", .event, required: false, doc: "Events to record.")],
            outputs: [OutputSpec("out", .pcm(format), doc: "Frames.")])
    }
    static func pacing(_ params: Parameters) -> PacingPreference {
        switch params.string("pace") {
        case "realtime": return .realtime
        case "fast": return .fast
        default: return .indifferent
        }
    }

    let output: PCMLane
    let control: EventInput
    let frames: Int
    let failStart: Bool
    var received: [(tick: Int64, event: GraphEvent)] = []
    var startCount = 0, stopCount = 0, processCount = 0

    init(_ setup: NodeSetup) throws {
        output = setup.pcmOutput("out")
        control = setup.eventInput("control")
        frames = setup.params.int("frames")!
        failStart = setup.params.bool("fail_start")!
    }
    func start() throws {
        startCount += 1
        if failStart { throw NodeError("cannot open the test device") }
    }
    func process(_ tick: Tick) throws {
        processCount += 1
        control.forEach { received.append((tick.index, $0)) }
        if frames > 0 && tick.index >= Int64(frames) {
            output.finish()
            return
        }
        output.write { $0.update(repeating: Float(tick.index)) }
    }
    func stop() { stopCount += 1 }
}

/// Pass-through: copies `in` to `out` (same format). Can throw at tick `fail_at`, sleep `slow_ms` at tick `slow_tick`,
/// and hold `drain_ticks` ticks of output after its input ended (like a resampler's tail).
final class TestPass: NodeType {
    static let typeName = "TestPass"
    static let summary = "Test pass-through."
    static let parameters: [ParameterSpec] = [
        .optional("fail_at", .int(-1...1_000_000), default: .int(-1), "Throw at this tick (-1: never)."),
        .optional("slow_tick", .int(-1...1_000_000), default: .int(-1), "Sleep at this tick (-1: never)."),
        .optional("slow_ms", .int(0...10_000), default: .int(0), "How long to sleep at slow_tick."),
        .optional("drain_ticks", .int(0...100), default: .int(0), "Ticks of tail after the input ends."),
    ]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [InputSpec("in", .pcm, doc: "Any PCM.")],
            outputs: [OutputSpec("out", .pcm, sameAs: "in", doc: "Same as in.")])
    }

    let input: PCMInput
    let output: PCMLane
    let failAt: Int64, slowTick: Int64, slowMs: Int
    var tail: Int
    var startCount = 0, stopCount = 0

    init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        output = setup.pcmOutput("out")
        failAt = Int64(setup.params.int("fail_at")!)
        slowTick = Int64(setup.params.int("slow_tick")!)
        slowMs = setup.params.int("slow_ms")!
        tail = setup.params.int("drain_ticks")!
    }
    var isDrained: Bool { tail == 0 }
    func start() throws { startCount += 1 }
    func process(_ tick: Tick) throws {
        if tick.index == failAt { throw NodeError("test failure at tick \(tick.index)") }
        if tick.index == slowTick { usleep(UInt32(slowMs * 1000)) }
        if let frame = input.frame {
            output.write { out in for i in 0..<min(out.count, frame.count) { out[i] = frame[i] } }
        } else if input.allEnded && tail > 0 {
            tail -= 1
            output.write { $0.update(repeating: -1) }
        }
    }
    func stop() { stopCount += 1 }
}

/// Sink: records the first sample of every frame (nil for a tick without one) and the events it receives; emits
/// `warning("sink N")` on `events` every tick.
final class TestSink: NodeType {
    static let typeName = "TestSink"
    static let summary = "Test sink that records frames."
    static let parameters: [ParameterSpec] = [
        .optional("label", .string, default: nil, "Free text.")
    ]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [
                InputSpec("in", .pcm, doc: "Any PCM."),
                InputSpec("control", .event, required: false, doc: "Events to record."),
            ],
            outputs: [OutputSpec("events", MediaFormat(.event), doc: "One warning per tick.")])
    }

    let input: PCMInput
    let control: EventInput
    let events: EventLane
    var frames: [Float?] = []
    var received: [(tick: Int64, event: GraphEvent)] = []
    /// `Tick.startNanos` of every tick (the session clock at its start).
    var tickStarts: [UInt64] = []
    var startCount = 0, stopCount = 0

    init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        control = setup.eventInput("control")
        events = setup.eventOutput("events")
    }
    func start() throws { startCount += 1 }
    func process(_ tick: Tick) throws {
        frames.append(input.frame?.first)
        tickStarts.append(tick.startNanos)
        control.forEach { received.append((tick.index, $0)) }
        events.emit(.warning("sink \(tick.index)"))
    }
    func stop() { stopCount += 1 }
}

/// Two outputs (`left`, `right`) and no `out`: a link naming only the node is ambiguous as a source.
final class TestSplit: NodeType {
    static let typeName = "TestSplit"
    static let summary = "Test splitter with two outputs."
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [InputSpec("in", .pcm, doc: "Any PCM.")],
            outputs: [
                OutputSpec("left", .pcm, sameAs: "in", doc: "Copy."),
                OutputSpec("right", .pcm, sameAs: "in", doc: "Copy."),
            ])
    }
    let input: PCMInput
    let left: PCMLane, right: PCMLane
    init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        left = setup.pcmOutput("left")
        right = setup.pcmOutput("right")
    }
    func process(_ tick: Tick) throws {
        guard let frame = input.frame else { return }
        left.write { out in for i in 0..<out.count { out[i] = frame[i] } }
        right.write { out in for i in 0..<out.count { out[i] = -frame[i] } }
    }
}

/// Two inputs (`a`, `b`) and no `in`; `a` accepts any PCM from many links (formats must agree), `b` needs 16 kHz mono.
final class TestMerge: NodeType {
    static let typeName = "TestMerge"
    static let summary = "Test node with two inputs."
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [
                InputSpec("a", .pcm, many: true, doc: "Any PCM, many links."),
                InputSpec(
                    "b", .pcm, .exact(PCMFormat(sampleRate: 16_000, channels: 1)), required: false, doc: "16 kHz mono."),
            ],
            outputs: [OutputSpec("out", .pcm, sameAs: "a", doc: "Same as a.")])
    }
    let a: PCMInput, output: PCMLane
    init(_ setup: NodeSetup) throws {
        a = setup.pcmInput("a")
        output = setup.pcmOutput("out")
    }
    func process(_ tick: Tick) throws {
        if let f = a.frame { output.write { out in for i in 0..<out.count { out[i] = f[i] } } }
    }
}

/// Turns PCM into text items ("tick N"), standing in for an encoder: PCM in, packets out.
final class TestEncoder: NodeType {
    static let typeName = "TestEncoder"
    static let summary = "Test PCM to text converter."
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [
                InputSpec("in", .pcm, doc: "Any PCM."),
                InputSpec("control", .event, required: false, doc: "Ignored."),
            ],
            outputs: [OutputSpec("out", MediaFormat(.text), doc: "One item per frame.")])
    }
    let input: PCMInput, output: PacketLane
    init(_ setup: NodeSetup) throws {
        input = setup.pcmInput("in")
        output = setup.packetOutput("out")
    }
    func process(_ tick: Tick) throws {
        if input.frame != nil { output.append(Array("tick \(tick.index)".utf8)) }
    }
}

/// Needs text: a kind mismatch target for PCM.
final class TestTextSink: NodeType {
    static let typeName = "TestTextSink"
    static let summary = "Test text sink."
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(inputs: [InputSpec("in", .text, doc: "Text items.")])
    }
    let input: PacketInput
    var items: [String] = []
    init(_ setup: NodeSetup) throws { input = setup.packetInput("in") }
    func process(_ tick: Tick) throws { input.forEach { items.append(String(decoding: $0, as: UTF8.self)) } }
}

/// Only an event input: it follows the session and must not hold it open.
final class TestEventTap: NodeType {
    static let typeName = "TestEventTap"
    static let summary = "Test event recorder."
    static let parameters: [ParameterSpec] = []
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(inputs: [InputSpec("in", .event, doc: "Events.")])
    }
    let input: EventInput
    var events: [GraphEvent] = []
    init(_ setup: NodeSetup) throws { input = setup.eventInput("in") }
    func process(_ tick: Tick) throws { input.forEach { events.append($0) } }
}

/// The registry every engine test uses.
let testRegistry: NodeRegistry = {
    var r = NodeRegistry()
    for t: any NodeType.Type in [
        TestSource.self, TestPass.self, TestSink.self, TestSplit.self, TestMerge.self,
        TestEncoder.self, TestTextSink.self, TestEventTap.self,
    ] {
        r.register(t)
    }
    return r
}()

/// Validates YAML with the test registry, returning the pipeline or the diagnostics.
func validate(_ yaml: String, env: [String: String] = [:]) -> Result<ValidatedPipeline, PipelineErrors> {
    do {
        return .success(
            try PipelineValidator(registry: testRegistry).validate(
                yaml: yaml, file: "t.yaml", environment: PipelineEnvironment(env)))
    } catch let e as PipelineErrors {
        return .failure(e)
    } catch {
        fatalError("unexpected \(error)")
    }
}

/// The diagnostics of YAML that must fail validation, as `line:column: message` strings (hints left out).
func problems(_ yaml: String, env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line)
    -> [String]
{
    switch validate(yaml, env: env) {
    case .success:
        XCTFail("expected validation errors", file: file, line: line)
        return []
    case .failure(let e):
        return e.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    }
}

extension PCMFormat {
    /// A test format (the engine itself names none).
    static let stereo48k = PCMFormat(sampleRate: 48_000, channels: 2)
}
