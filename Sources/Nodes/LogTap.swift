import Foundation
import RouterCore

/// A tap that logs what passes on an edge — packets (sizes and first bytes), text pieces, events, or PCM frame
/// presence — rate-limited so a busy edge cannot flood the log. It only reads its input.
public final class LogTap: NodeType {
    public static let typeName = "LogTap"
    public static let summary = "Tap: log packets, text, events or PCM frames on an edge, rate-limited."
    private enum Param {
        static let kind: ParameterKey<MediaKind> = .choice(
            "kind", [.opus, .ogg, .text, .event, .pcm], default: .event,
            "What the tapped edge carries.")
        static let maxPerSecond: ParameterKey<Int> = .int(
            "max_per_second", 1...1000, default: 5,
            "Lines per second at most; the rest are counted.")
        static let bytes: ParameterKey<Int> = .int(
            "bytes", 0...64, default: 8, "How many leading bytes of each packet to show in hex.")
    }
    public static let parameters = [Param.kind.spec, Param.maxPerSecond.spec, Param.bytes.spec]

    public static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(inputs: [InputSpec("in", params[Param.kind], doc: "The edge to log.")])
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
        kind = setup.params[Param.kind]
        packets = setup.packetInput("in")
        events = setup.eventInput("in")
        pcm = setup.pcmInput("in")
        limit = setup.params[Param.maxPerSecond]
        showBytes = setup.params[Param.bytes]
        log = setup.log
    }

    public func process(_ tick: Tick) throws {
        let s = tick.index / Int64(Tick.perSecond)
        if s != second {
            if suppressed > 0 { log.info("… \(suppressed) more line(s) suppressed in the last second") }
            second = s
            linesThisSecond = 0
            suppressed = 0
        }
        switch kind {
        case .opus, .ogg:
            packets.forEach { p in
                emit {
                    "\(kind.displayName) \(p.count) bytes: "
                        + p.prefix(showBytes).map { String(format: "%02x", $0) }.joined(separator: " ")
                }
            }
        case .text:
            packets.forEach { p in emit { "text \"" + String(decoding: p, as: UTF8.self) + "\"" } }
        case .event:
            events.forEach { e in emit { "event: \(e)" } }
        case .pcm, .pcmStreams:
            if let lane = pcm.lanes.first { emit { lane.isPresent ? "pcm frame \(lane.pcmFormat)" : "pcm: no frame" } }
        }
    }

    private func emit(_ line: () -> String) {
        guard linesThisSecond < limit else {
            suppressed += 1
            suppressedTotal += 1
            return
        }
        linesThisSecond += 1
        written += 1
        log.info(line())
    }
}
