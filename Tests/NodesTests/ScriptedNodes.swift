import Codecs
import Foundation
import Nodes
import RouterCore
import Synchronization
import XCTest

// MARK: - Scripted nodes for whole-graph tests

/// Scripts shared between a test and the nodes it builds (looked up by name).
final class Scripts: Sendable {
    static let shared = Scripts()
    private let pcm = Mutex<[String: [[Float]?]]>([:])
    private let events = Mutex<[String: [Int: [GraphEvent]]]>([:])
    private let speakers = Mutex<[String: [[UInt64]]]>([:])

    func setPCM(_ name: String, _ frames: [[Float]?]) { pcm.withLock { $0[name] = frames } }
    func pcmScript(_ name: String) -> [[Float]?] { pcm.withLock { $0[name, default: []] } }
    func setEvents(_ name: String, _ script: [Int: [GraphEvent]]) { events.withLock { $0[name] = script } }
    func eventScript(_ name: String) -> [Int: [GraphEvent]] { events.withLock { $0[name, default: [:]] } }
    func setSpeakers(_ name: String, _ script: [[UInt64]]) { speakers.withLock { $0[name] = script } }
    func speakerScript(_ name: String) -> [[UInt64]] { speakers.withLock { $0[name, default: []] } }
}

/// Source: plays a scripted list of frames (nil = no frame that tick), then ends.
final class ScriptedSource: NodeType {
    static let typeName = "ScriptedSource"
    static let summary = "Test source playing scripted frames."
    static let parameters: [ParameterSpec] = [
        .required("script", .string, "Script name."),
        .optional("rate", .int(8_000...192_000), default: .int(48_000), "Rate."),
        .optional("channels", .int(1...8), default: .int(2), "Channels."),
    ]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(outputs: [
            OutputSpec(
                "out", .pcm(PCMFormat(sampleRate: params.int("rate") ?? 48_000, channels: params.int("channels") ?? 2)),
                doc: "Frames.")
        ])
    }

    private let frames: [[Float]?]
    private let output: PCMLane

    init(_ setup: NodeSetup) throws {
        frames = Scripts.shared.pcmScript(setup.params.string("script") ?? "")
        output = setup.pcmOutput("out")
    }

    func process(_ tick: Tick) throws {
        let i = Int(tick.index)
        guard i < frames.count else {
            output.finish()
            return
        }
        if let f = frames[i] {
            precondition(f.count == output.pcmFormat.samplesPerFrame)
            output.write { out in _ = out.update(fromContentsOf: f) }
        }
    }
}

/// Emits scripted events at given ticks; never ends by itself.
final class EventScript: NodeType {
    static let typeName = "EventScript"
    static let summary = "Test source of scripted events."
    static let parameters: [ParameterSpec] = [.required("script", .string, "Script name.")]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(outputs: [OutputSpec("out", MediaFormat(.event), doc: "Events.")])
    }

    private let script: [Int: [GraphEvent]]
    private let output: EventLane

    init(_ setup: NodeSetup) throws {
        script = Scripts.shared.eventScript(setup.params.string("script") ?? "")
        output = setup.eventOutput("out")
    }

    func process(_ tick: Tick) throws {
        for e in script[Int(tick.index)] ?? [] { output.emit(e) }
    }
}

/// Per-speaker streams: in tick t, a frame (0.1 everywhere) for each id in `script[t]`; ends after the script.
final class ScriptedSpeakers: NodeType {
    static let typeName = "ScriptedSpeakers"
    static let summary = "Test source of per-speaker streams."
    static let parameters: [ParameterSpec] = [.required("script", .string, "Script name.")]
    static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(outputs: [OutputSpec("out", MediaFormat(.pcmStreams, pcm: .discord), doc: "Streams.")])
    }

    private let script: [[UInt64]]
    private let output: PCMStreamsLane

    init(_ setup: NodeSetup) throws {
        script = Scripts.shared.speakerScript(setup.params.string("script") ?? "")
        output = setup.streamsOutput("out")
    }

    func process(_ tick: Tick) throws {
        let t = Int(tick.index)
        guard t < script.count else {
            output.finish()
            return
        }
        for id in script[t] { output.append(id: id) { $0.update(repeating: 0.1) } }
    }
}

/// The standard registry plus the scripted test nodes.
var testRegistry: NodeRegistry {
    var r = NodeRegistry.standard
    r.register(ScriptedSource.self)
    r.register(EventScript.self)
    r.register(ScriptedSpeakers.self)
    return r
}
