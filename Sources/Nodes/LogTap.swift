import Foundation
import RouterCore

/// A tap that logs what passes on an edge — packets (sizes and first bytes), text pieces, events, or PCM frame
/// presence — rate-limited so a busy edge cannot flood the log. It only reads its input.
public final class LogTap: NodeType {
    public static let typeName = "LogTap"
    public static let summary = "Tap: log packets, text, events or PCM frames on an edge, rate-limited."
    public static let parameters: [ParameterSpec] = [
        .optional("kind", .choice(["opus", "ogg", "text", "event", "pcm"]), default: .string("event"), "What the tapped edge carries."),
        .optional("max_per_second", .int(1...1000), default: .int(5), "Lines per second at most; the rest are counted."),
        .optional("bytes", .int(0...64), default: .int(8), "How many leading bytes of each packet to show in hex."),
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        let kind = MediaKind(rawValue: params.string("kind") ?? "event") ?? .event
        return PortLayout(inputs: [InputSpec("in", kind, doc: "The edge to log.")])
    }

    private let kind: MediaKind
    private let packets: PacketInput
    private let events: EventInput
    private let pcm: PCMInput
    private let limit: Int
    private let showBytes: Int
    private let log: Logger
    private var linesThisSecond = 0
    private var suppressed = 0
    private var second: Int64 = -1
    /// Lines written and lines suppressed by the rate limit, for tests.
    public private(set) var written = 0
    public private(set) var suppressedTotal = 0

    public init(_ setup: NodeSetup) throws {
        kind = MediaKind(rawValue: setup.params.string("kind") ?? "event") ?? .event
        packets = setup.packetInput("in")
        events = setup.eventInput("in")
        pcm = setup.pcmInput("in")
        limit = setup.params.int("max_per_second") ?? 5
        showBytes = setup.params.int("bytes") ?? 8
        log = setup.log
    }

    public func process(_ tick: Tick) throws {
        let s = tick.index / 50
        if s != second {
            if suppressed > 0 { log.info("… \(suppressed) more line(s) suppressed in the last second") }
            second = s; linesThisSecond = 0; suppressed = 0
        }
        switch kind {
        case .opus, .ogg:
            packets.forEach { p in emit { "\(kind.displayName) \(p.count) bytes: " + p.prefix(showBytes).map { String(format: "%02x", $0) }.joined(separator: " ") } }
        case .text:
            packets.forEach { p in emit { "text \"" + String(decoding: p, as: UTF8.self) + "\"" } }
        case .event:
            events.forEach { e in emit { "event: \(e)" } }
        case .pcm, .pcmStreams:
            if let lane = pcm.lanes.first { emit { lane.isPresent ? "pcm frame \(lane.pcmFormat)" : "pcm: no frame" } }
        }
    }

    private func emit(_ line: () -> String) {
        guard linesThisSecond < limit else { suppressed += 1; suppressedTotal += 1; return }
        linesThisSecond += 1
        written += 1
        log.info(line())
    }
}
