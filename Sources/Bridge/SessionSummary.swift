import DiscordVoice
import Foundation
import Nodes
import RouterCore

/// What one voice session did, for the log at its end (and the demo's closing report): per-node metrics, the
/// voice connection's counters, and how it ended.
public struct SessionSummary: Sendable, CustomStringConvertible {
    public var sessionID: String
    public var guildID: String
    public var seconds: Double
    public var lateTicks: Int
    /// Tick durations (all nodes), p50 / p99 / max in nanoseconds: the tick thread's load.
    public var tickP50: UInt64 = 0
    public var tickP99: UInt64 = 0
    public var tickMax: UInt64 = 0
    /// `MetricsReport.renderLatencies`: hand-off latencies of the nodes that measure them.
    public var latencyReport = ""
    public var outcome: String
    /// `MetricsReport.render` of every node, in data-path order.
    public var nodeReport: String
    /// Every DiscordIn's speakers (jitter buffer and concealment counters), by user id.
    public var speakers: [DiscordSpeakerCounters]
    /// The voice connection at the end (nil if it never got that far).
    public var voice: VoiceConnectionStatus?

    public var description: String {
        var lines = [
            "session \(sessionID) in guild \(guildID): \(outcome) after \(formatted(seconds)) s"
                + (lateTicks > 0 ? " (\(lateTicks) late ticks)" : "")
                + "; tick p50 \(formatted(Double(tickP50) / 1e3)) µs, p99 \(formatted(Double(tickP99) / 1e3)) µs, "
                + "max \(formatted(Double(tickMax) / 1e3)) µs"
        ]
        lines.append(nodeReport)
        if !latencyReport.isEmpty { lines.append(latencyReport) }
        if !speakers.isEmpty {
            lines.append("speakers:")
            lines.append(contentsOf: speakers.map { "  " + $0.summary })
        }
        if let voice {
            let send = voice.send
            lines.append(
                "voice: \(voice.receive.audio) packets received, \(send.sent) sent (\(send.silence) silence, "
                    + "\(send.deficit) deficit, \(send.late) late), pacing lateness p99 "
                    + "\(formatted(Double(voice.pacingLatenessP99) / 1e6)) ms, DAVE v\(voice.daveProtocolVersion), "
                    + "\(voice.resumes) resumes, \(voice.rejoins) rejoins")
        }
        return lines.joined(separator: "\n")
    }

    private func formatted(_ value: Double) -> String { String(format: "%.2f", value) }
}
