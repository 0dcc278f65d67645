import Foundation

/// JSON in and out. The simulator builds Discord's payloads from dictionaries, as a server would, so it does not
/// share the client's model types (that would hide mismatches).
enum SimJSON {
    static func encode(_ object: Any) -> String {
        guard JSONSerialization.isValidJSONObject(object),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeObject(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any]
    }

    static func decodeArray(_ data: Data) -> [Any]? {
        (try? JSONSerialization.jsonObject(with: data)) as? [Any]
    }

    /// A snowflake field: Discord sends strings; clients may send numbers.
    static func snowflake(_ value: Any?) -> UInt64? {
        if let text = value as? String { return UInt64(text) }
        if let number = value as? NSNumber { return number.uint64Value }
        return nil
    }
}

/// Discord-style ids: milliseconds since 2015 in the high bits, so `(id >> 22) % shards` spreads guilds.
struct SnowflakeGenerator {
    private var counter: UInt64 = 0
    private var lastMillis: UInt64 = 0
    static let discordEpochMillis: UInt64 = 1_420_070_400_000

    mutating func next(millisOffset: UInt64? = nil) -> UInt64 {
        let now = UInt64(Date().timeIntervalSince1970 * 1000) - Self.discordEpochMillis
        let millis = millisOffset.map { now - min(now, $0) } ?? max(now, lastMillis)
        lastMillis = max(lastMillis, millis)
        counter = (counter + 1) & 0xFFF
        return millis << 22 | (1 << 17) | counter
    }
}

extension Date {
    var iso8601: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: self)
    }
}
