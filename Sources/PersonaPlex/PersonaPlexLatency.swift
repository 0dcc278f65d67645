/// Percentile helper for latency reports.
public enum PersonaPlexLatency {
    /// The `fraction` percentile (0...1, nearest rank) of `values`, or `nil` if empty.
    public static func percentile(_ values: [UInt64], _ fraction: Double) -> UInt64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
