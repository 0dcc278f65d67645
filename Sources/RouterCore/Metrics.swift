/// A fixed-size log-linear histogram of durations in nanoseconds (16 sub-buckets per power of two, ~6 % resolution).
/// Recording is a few integer operations and never allocates.
public struct LatencyHistogram: Sendable {
    private static let subBits = 4
    private static let subCount = 1 << subBits
    private static let bucketCount = 64 * subCount
    private var counts: [UInt32]
    public private(set) var count: Int = 0
    public private(set) var maxValue: UInt64 = 0
    public private(set) var total: UInt64 = 0

    public init() { counts = [UInt32](repeating: 0, count: Self.bucketCount) }

    @inline(__always)
    static func index(of value: UInt64) -> Int {
        let v = max(value, 1)
        let msb = 63 - v.leadingZeroBitCount
        if msb < subBits { return Int(v) }
        let sub = Int((v >> UInt64(msb - subBits)) & UInt64(subCount - 1))
        return (msb - subBits + 1) * subCount + sub
    }

    static func lowerBound(of index: Int) -> UInt64 {
        if index < subCount { return UInt64(index) }
        let group = index / subCount, sub = index % subCount
        let msb = group + subBits - 1
        guard msb < 64 else { return UInt64.max }
        return (UInt64(1) << UInt64(msb)) | (UInt64(sub) << UInt64(msb - subBits))
    }

    /// Records one duration (a difference of two `MonotonicClock` readings).
    @inline(__always)
    public mutating func record(_ nanoseconds: UInt64) {
        counts[Self.index(of: nanoseconds)] &+= 1
        count += 1
        total &+= nanoseconds
        if nanoseconds > maxValue { maxValue = nanoseconds }
    }

    /// The value below which `fraction` (0...1) of recordings fall (bucket midpoint), or 0 when empty.
    public func percentile(_ fraction: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let target = max(1, Int((Double(count) * fraction).rounded(.up)))
        var seen = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += Int(c)
            if seen >= target {
                let low = Self.lowerBound(of: i), high = Self.lowerBound(of: i + 1)
                return min(low + (high - low) / 2, maxValue)
            }
        }
        return maxValue
    }

    public var mean: Double { count == 0 ? 0 : Double(total) / Double(count) }

    public mutating func reset() { self = LatencyHistogram() }
}

/// Counters the runtime keeps for each node; nodes add their own drops and queue depth.
public final class NodeMetrics {
    public let nodeName: String
    public let typeName: String
    /// Items read from inputs (frames, packets, events).
    public internal(set) var itemsIn: Int = 0
    /// Items written to outputs.
    public internal(set) var itemsOut: Int = 0
    /// Items the node had to drop (full queue, late data, corrupt input); nodes increment it.
    public var drops: Int = 0
    /// Corrupt or rejected input items; nodes increment it.
    public var errors: Int = 0
    /// Current depth of the node's internal queue, if it has one; nodes set it.
    public var queueDepth: Int = 0
    /// Time spent in `process` per tick.
    public internal(set) var processing = LatencyHistogram()

    public init(nodeName: String, typeName: String) {
        self.nodeName = nodeName
        self.typeName = typeName
    }
}

/// A node that measures latencies of its own (network hand-offs, queues) for the metrics report.
public protocol ReportsLatency: AnyObject {
    /// Named histograms, e.g. ("uplink: tick start → socket write", histogram).
    var latencyReport: [(name: String, histogram: LatencyHistogram)] { get }
}

/// A one-line-per-node table of metrics.
public enum MetricsReport {
    public static func render(_ metrics: [NodeMetrics]) -> String {
        var rows = [["node", "type", "in", "out", "drops", "errors", "queue", "p50 µs", "p99 µs", "max µs"]]
        for m in metrics {
            rows.append([
                m.nodeName, m.typeName, String(m.itemsIn), String(m.itemsOut), String(m.drops),
                String(m.errors), String(m.queueDepth),
                micro(m.processing.percentile(0.5)), micro(m.processing.percentile(0.99)),
                micro(m.processing.maxValue),
            ])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// Lines for every node that reports latencies: p50/p99/max in milliseconds and the count.
    public static func renderLatencies(_ graph: Graph) -> String {
        var lines: [String] = []
        for (name, node) in graph.namedNodes {
            guard let reporter = node as? ReportsLatency else { continue }
            for (label, h) in reporter.latencyReport where h.count > 0 {
                lines.append(
                    "\(name) \(label): p50 \(milli(h.percentile(0.5))) ms, p99 \(milli(h.percentile(0.99))) ms, max \(milli(h.maxValue)) ms (n=\(h.count))"
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    static func milli(_ ns: UInt64) -> String {
        let hundredths = (ns + 5_000) / 10_000
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    static func micro(_ ns: UInt64) -> String {
        let tenths = (ns + 50) / 100
        return "\(tenths / 10).\(tenths % 10)"
    }
}

private extension String {
    func padding(toLength length: Int, withPad pad: String, startingAt: Int) -> String {
        count >= length ? self : self + String(repeating: pad, count: length - count)
    }
}
