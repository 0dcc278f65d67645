/// One parameter of a node type, declared once: its schema entry (name, type, default, documentation) and how to read
/// its value with the right Swift type. A node lists `key.spec` in its `parameters` and reads `params[key]`, which
/// returns the schema's default when the pipeline left the parameter out, so a default is written in one place.
///
///     static let gain = ParameterKey.double("gain_db", -60...20, default: 0, "Gain in dB.")
///     static let parameters = [gain.spec]
///     ... let gain = setup.params[Self.gain]   // Double, never nil
public struct ParameterKey<Value: Sendable>: Sendable {
    /// The schema entry (what validation, `router nodes` and the catalogue see).
    public let spec: ParameterSpec
    /// The value when the parameter is unset (the schema's default, or nil for optional values without one).
    let fallback: Value
    /// The typed value of a parsed parameter, or nil when it has another type (never after validation).
    let decode: @Sendable (ParameterValue) -> Value?

    /// The parameter's name in pipeline files.
    public var name: String { spec.name }
}

extension ParameterKey where Value == Int {
    /// An integer with a default, optionally bounded.
    public static func int(
        _ name: String, _ range: ClosedRange<Int>? = nil, default value: Int,
        _ doc: String
    ) -> Self {
        Self(spec: .optional(name, .int(range), default: .int(value), doc), fallback: value, decode: Self.int)
    }

    /// A sample rate (a multiple of 50 Hz in 8000...192000) with a default.
    public static func sampleRate(_ name: String, default value: Int, _ doc: String) -> Self {
        Self(spec: .optional(name, .sampleRate, default: .int(value), doc), fallback: value, decode: Self.int)
    }

    /// A sample rate the pipeline must give. `probe` is what the node's ports are described with before a pipeline
    /// gives one (`router nodes`, converter suggestions); validation never lets a node be built without the value.
    public static func requiredSampleRate(_ name: String, probe: Int, _ doc: String) -> Self {
        Self(spec: .required(name, .sampleRate, doc), fallback: probe, decode: Self.int)
    }

    /// One of a fixed set of whole numbers (written as words in the schema: `8000|16000|...`), with a default.
    public static func choice(_ name: String, _ values: [Int], default value: Int, _ doc: String) -> Self {
        Self(
            spec: .optional(name, .choice(values.map(String.init)), default: .string(String(value)), doc),
            fallback: value,
            decode: { if case .string(let word) = $0 { return Int(word) } else { return nil } })
    }

    @Sendable private static func int(_ value: ParameterValue) -> Int? {
        if case .int(let v) = value { return v }
        return nil
    }
}

extension ParameterKey where Value == Double {
    /// A number with a default, optionally bounded.
    public static func double(
        _ name: String, _ range: ClosedRange<Double>? = nil, default value: Double,
        _ doc: String
    ) -> Self {
        Self(spec: .optional(name, .double(range), default: .double(value), doc), fallback: value, decode: Self.double)
    }

    /// A duration in seconds (written `1.5`, `1.5s` or `1500ms`) with a default.
    public static func duration(_ name: String, default seconds: Double, _ doc: String) -> Self {
        Self(spec: .optional(name, .duration, default: .double(seconds), doc), fallback: seconds, decode: Self.double)
    }

    @Sendable private static func double(_ value: ParameterValue) -> Double? {
        switch value {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }
}

extension ParameterKey where Value == Bool {
    /// A flag with a default.
    public static func bool(_ name: String, default value: Bool, _ doc: String) -> Self {
        Self(
            spec: .optional(name, .bool, default: .bool(value), doc), fallback: value,
            decode: { if case .bool(let v) = $0 { return v } else { return nil } })
    }
}

extension ParameterKey where Value == String {
    /// Free text with a default.
    public static func string(_ name: String, default value: String, _ doc: String) -> Self {
        Self(spec: .optional(name, .string, default: .string(value), doc), fallback: value, decode: Self.string)
    }

    /// One of a fixed set of words, with a default.
    public static func choice(_ name: String, _ words: [String], default value: String, _ doc: String) -> Self {
        Self(spec: .optional(name, .choice(words), default: .string(value), doc), fallback: value, decode: Self.string)
    }

    @Sendable static func string(_ value: ParameterValue) -> String? {
        if case .string(let v) = value { return v }
        return nil
    }
}

extension ParameterKey where Value: RawRepresentable, Value.RawValue == String {
    /// One of a fixed set of words that are the raw values of `Value`'s cases, with a default.
    public static func choice(_ name: String, _ cases: [Value], default value: Value, _ doc: String) -> Self {
        Self(
            spec: .optional(name, .choice(cases.map(\.rawValue)), default: .string(value.rawValue), doc),
            fallback: value,
            decode: { if case .string(let word) = $0 { return Value(rawValue: word) } else { return nil } })
    }
}

extension ParameterKey where Value == String? {
    /// Text the pipeline must give; nil only while probing a type's ports without a pipeline (catalogue, defaults).
    public static func requiredString(_ name: String, _ doc: String) -> Self {
        Self(spec: .required(name, .string, doc), fallback: nil, decode: { ParameterKey<String>.string($0) })
    }

    /// Optional text without a default: nil when unset.
    public static func optionalString(_ name: String, _ doc: String) -> Self {
        Self(
            spec: .optional(name, .string, default: nil, doc), fallback: nil,
            decode: { ParameterKey<String>.string($0) })
    }

    /// A file the pipeline must give (nil only while probing ports, or when given empty).
    public static func requiredPath(_ name: String, _ doc: String) -> Self {
        Self(spec: .required(name, .path, doc), fallback: nil, decode: Self.path)
    }

    /// An optional file: nil when unset or empty.
    public static func optionalPath(_ name: String, _ doc: String) -> Self {
        Self(spec: .optional(name, .path, default: nil, doc), fallback: nil, decode: Self.path)
    }

    /// A non-empty path; an empty one reads as unset.
    @Sendable private static func path(_ value: ParameterValue) -> String?? {
        guard case .string(let v) = value else { return nil }
        return .some(v.isEmpty ? nil : v)
    }
}

extension Parameters {
    /// The value of `key`: as given in the pipeline, or the schema's default.
    public subscript<Value>(key: ParameterKey<Value>) -> Value {
        values[key.name].flatMap(key.decode) ?? key.fallback
    }
}
