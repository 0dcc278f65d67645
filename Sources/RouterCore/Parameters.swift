import Foundation

/// The type of a node parameter, with its allowed range or choices.
public enum ParameterType: Sendable, CustomStringConvertible {
    case int(ClosedRange<Int>?)
    case double(ClosedRange<Double>?)
    case bool
    case string
    /// A file path; relative paths are relative to the working directory (like paths given on the command line).
    case path
    /// One of a fixed set of words.
    case choice([String])
    /// Seconds, written `1.5`, `1.5s` or `1500ms`.
    case duration
    /// A sample rate in Hz that splits into whole 20 ms frames: 8000...192000 and a multiple of 50. Read as `.int`.
    case sampleRate

    /// The rates `.sampleRate` accepts.
    public static let sampleRateRange = 8_000...192_000
    /// Rates named in the hint when a sample rate is refused.
    public static let commonSampleRates = [8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000]

    /// A file path parameter.
    public var isPath: Bool {
        if case .path = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .int(let r): return r.map { "integer \($0.lowerBound)...\($0.upperBound)" } ?? "integer"
        case .double(let r): return r.map { "number \($0.lowerBound)...\($0.upperBound)" } ?? "number"
        case .bool: return "true/false"
        case .string: return "string"
        case .path: return "path"
        case .choice(let words): return words.joined(separator: "|")
        case .duration: return "duration (e.g. 1.5s, 200ms)"
        case .sampleRate: return "sample rate in Hz (8000...192000, a multiple of 50)"
        }
    }
}

/// A parsed parameter value.
public enum ParameterValue: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .bool(let v): return String(v)
        case .string(let v): return v
        }
    }
}

/// One entry of a node type's parameter schema.
public struct ParameterSpec: Sendable {
    public var name: String
    public var type: ParameterType
    public var defaultValue: ParameterValue?
    public var isRequired: Bool
    public var doc: String

    /// An optional parameter with a default.
    public static func optional(_ name: String, _ type: ParameterType, default value: ParameterValue?, _ doc: String)
        -> ParameterSpec
    {
        ParameterSpec(name: name, type: type, defaultValue: value, isRequired: false, doc: doc)
    }

    /// A parameter the pipeline must set.
    public static func required(_ name: String, _ type: ParameterType, _ doc: String) -> ParameterSpec {
        ParameterSpec(name: name, type: type, defaultValue: nil, isRequired: true, doc: doc)
    }

    /// Parses a YAML scalar for this parameter, or says what was expected.
    public func parse(_ text: String) -> Result<ParameterValue, ParameterProblem> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch type {
        case .int(let range):
            guard let v = Int(trimmed) else {
                return .failure(ParameterProblem("'\(name)' must be an integer, not '\(text)'"))
            }
            if let range, !range.contains(v) {
                return .failure(
                    ParameterProblem("'\(name)' must be in \(range.lowerBound)...\(range.upperBound), not \(v)"))
            }
            return .success(.int(v))
        case .double(let range):
            guard let v = Double(trimmed), v.isFinite else {
                return .failure(ParameterProblem("'\(name)' must be a number, not '\(text)'"))
            }
            if let range, !range.contains(v) {
                return .failure(
                    ParameterProblem("'\(name)' must be in \(range.lowerBound)...\(range.upperBound), not \(trimmed)"))
            }
            return .success(.double(v))
        case .bool:
            switch trimmed.lowercased() {
            case "true", "yes", "on": return .success(.bool(true))
            case "false", "no", "off": return .success(.bool(false))
            default: return .failure(ParameterProblem("'\(name)' must be true or false, not '\(text)'"))
            }
        case .string, .path:
            return .success(.string(text))
        case .choice(let words):
            guard words.contains(trimmed) else {
                return .failure(
                    ParameterProblem(
                        "'\(name)' must be one of \(words.joined(separator: ", ")), not '\(text)'."
                            + Spelling.didYouMean(trimmed, among: words)))
            }
            return .success(.string(trimmed))
        case .sampleRate:
            let rates = ParameterType.commonSampleRates.map(String.init).joined(separator: ", ")
            guard let v = Int(trimmed), ParameterType.sampleRateRange.contains(v), v % Tick.perSecond == 0 else {
                let why =
                    Int(trimmed).map {
                        ParameterType.sampleRateRange.contains($0)
                            ? "\($0) Hz does not split into whole 20 ms frames" : "\($0) Hz is outside 8000...192000"
                    }
                    ?? "'\(text)' is not a whole number of Hz"
                return .failure(
                    ParameterProblem(
                        "'\(name)' must be a sample rate: \(why)",
                        hint: "use a multiple of 50 Hz in 8000...192000, e.g. \(rates)"))
            }
            return .success(.int(v))
        case .duration:
            guard let seconds = Self.parseDuration(trimmed), seconds >= 0, seconds.isFinite else {
                return .failure(ParameterProblem("'\(name)' must be a duration such as 1.5s or 200ms, not '\(text)'"))
            }
            // Nodes turn durations into sample counts; an absurd value would overflow Int and trap at run time.
            guard seconds <= Self.maxDurationSeconds else {
                return .failure(
                    ParameterProblem("'\(name)' must be at most \(Int(Self.maxDurationSeconds)) s, not '\(text)'"))
            }
            return .success(.double(seconds))
        }
    }

    /// The longest duration a parameter accepts: about 11.5 days.
    static let maxDurationSeconds: Double = 1_000_000

    static func parseDuration(_ text: String) -> Double? {
        if text.hasSuffix("ms") {
            return Double(text.dropLast(2).trimmingCharacters(in: .whitespaces)).map { $0 / 1000 }
        }
        if text.hasSuffix("s") { return Double(text.dropLast().trimmingCharacters(in: .whitespaces)) }
        if text.hasSuffix("min") {
            return Double(text.dropLast(3).trimmingCharacters(in: .whitespaces)).map { $0 * 60 }
        }
        return Double(text)
    }
}

/// The validated parameters of one node instance: every schema entry has a value (given or default) except optional
/// entries without a default.
public struct Parameters: Sendable {
    public private(set) var values: [String: ParameterValue]

    public init(_ values: [String: ParameterValue] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> ParameterValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    public func int(_ name: String) -> Int? {
        if case .int(let v)? = values[name] { return v }
        return nil
    }

    public func double(_ name: String) -> Double? {
        switch values[name] {
        case .double(let v)?: return v
        case .int(let v)?: return Double(v)
        default: return nil
        }
    }

    public func bool(_ name: String) -> Bool? {
        if case .bool(let v)? = values[name] { return v }
        return nil
    }

    public func string(_ name: String) -> String? {
        if case .string(let v)? = values[name] { return v }
        return nil
    }

    /// A path parameter, or nil when unset or empty.
    public func path(_ name: String) -> String? {
        guard let raw = string(name), !raw.isEmpty else { return nil }
        return raw
    }
}

/// Why a parameter value was rejected, and (where the expected type says too little) how to fix it.
public struct ParameterProblem: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?
    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
    public var description: String { message }
}
