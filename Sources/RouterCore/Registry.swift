/// The catalogue of node types a pipeline may use. `router nodes` prints it; validation looks types up here.
public struct NodeRegistry: Sendable {
    private var types: [String: any NodeType.Type] = [:]

    public init() {}

    /// Adds a node type under its `typeName`. Registering the same name twice keeps the last.
    public mutating func register(_ type: any NodeType.Type) {
        types[type.typeName] = type
    }

    public func type(named name: String) -> (any NodeType.Type)? { types[name] }

    /// All registered type names, sorted.
    public var typeNames: [String] { types.keys.sorted() }

    /// All registered types, sorted by name.
    public var all: [any NodeType.Type] { typeNames.compactMap { types[$0] } }

    /// Default parameter values of a type (its schema defaults).
    public static func defaults(of type: any NodeType.Type) -> Parameters {
        var p = Parameters()
        for spec in type.parameters { if let v = spec.defaultValue { p[spec.name] = v } }
        return p
    }

    /// Registered types that turn `from` into `to` through their default ports, to suggest in format errors.
    public func converters(from: MediaKind, to: MediaKind) -> [String] {
        all.filter { type in
            let layout = type.ports(Self.defaults(of: type))
            guard let i = layout.defaultInput, let o = layout.defaultOutput else { return false }
            // Optional event inputs (an encoder's `control`) do not make a converter less of a converter.
            let mediaInputs = layout.inputs.filter { $0.kind != .event }
            return i.kind == from && o.kind == to && mediaInputs.count == 1
        }.map { $0.typeName }
    }

    /// The catalogue as text: for each type, its summary, ports with formats, and parameters.
    public func catalogue(only name: String? = nil) -> String {
        var out: [String] = []
        for type in all where name == nil || type.typeName == name {
            let layout = type.ports(Self.defaults(of: type))
            out.append("\(type.typeName) — \(type.summary)")
            for i in layout.inputs {
                var fmt = i.kind.displayName
                if case .exact(let f) = i.requirement {
                    fmt = Self.describe(f, kind: i.kind, of: type) {
                        $0.inputs.first { $0.name == i.name }.flatMap(Self.exactFormat)
                    }
                } else if i.kind == .pcm || i.kind == .pcmStreams {
                    fmt = "any-rate \(fmt)"
                }
                let flags = [i.isRequired ? "required" : "optional", i.acceptsMany ? "many links" : nil].compactMap {
                    $0
                }
                out.append("  in  \(i.name): \(fmt) (\(flags.joined(separator: ", "))) — \(i.doc)")
            }
            for o in layout.outputs {
                let fmt: String
                switch o.rule {
                case .fixed(let f):
                    fmt =
                        f.pcm.map { pcm in
                            Self.describe(pcm, kind: o.kind, of: type) {
                                $0.outputs.first { $0.name == o.name }.flatMap(Self.fixedFormat)
                            }
                        } ?? f.description
                case .sameAsInput(let input): fmt = "\(o.kind.displayName), same format as \(input)"
                }
                out.append("  out \(o.name): \(fmt) — \(o.doc)")
            }
            for p in type.parameters {
                let def = p.isRequired ? "required" : (p.defaultValue.map { "default \(Self.shown($0))" } ?? "optional")
                out.append("  param \(p.name): \(p.type) (\(def)) — \(p.doc)")
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    /// A default value as the catalogue shows it (an empty text as "", so it does not read as a missing word).
    static func shown(_ value: ParameterValue) -> String {
        if case .string("") = value { return "\"\"" }
        return value.description
    }

    /// A port's PCM format in the catalogue. Shown as a value only when no parameter changes it; otherwise the
    /// parameters that set it are named (with the default format when they all have defaults), and a format that
    /// follows a required file is said to come from the file.
    static func describe(
        _ format: PCMFormat, kind: MediaKind, of type: any NodeType.Type,
        _ portFormat: (PortLayout) -> PCMFormat?
    ) -> String {
        let defaults = Self.defaults(of: type)
        var dependencies: [ParameterSpec] = []
        for spec in type.parameters {
            var formats = Set([portFormat(type.ports(defaults))].compactMap { $0 })
            for value in sampleValues(of: spec.type) {
                var params = defaults
                params[spec.name] = value
                if let f = portFormat(type.ports(params)) { formats.insert(f) }
            }
            if formats.count > 1 { dependencies.append(spec) }
        }
        if dependencies.isEmpty {
            if let file = type.parameters.first(where: { $0.isRequired && $0.type.isPath }) {
                return "\(kind.displayName) (rate and channels of the file in '\(file.name)')"
            }
            return "\(format) \(kind.displayName)"
        }
        let names = dependencies.map(\.name).joined(separator: ", ")
        let fallback = dependencies.contains { $0.defaultValue == nil } ? "" : "; default \(format)"
        return "\(kind.displayName) (\(names) from params\(fallback))"
    }

    /// Values that exercise a parameter when probing which parameters a port's format depends on.
    private static func sampleValues(of type: ParameterType) -> [ParameterValue] {
        switch type {
        case .int(let range): return [.int(range?.lowerBound ?? 1), .int(range?.upperBound ?? 2)]
        case .double(let range): return [.double(range?.lowerBound ?? 0), .double(range?.upperBound ?? 1)]
        case .bool: return [.bool(false), .bool(true)]
        case .choice(let words): return words.map { .string($0) }
        case .sampleRate: return [.int(8_000), .int(48_000)]
        case .duration: return [.double(0.02), .double(1)]
        case .string, .path: return []
        }
    }

    private static func exactFormat(_ input: InputSpec) -> PCMFormat? {
        if case .exact(let f) = input.requirement { return f }
        return nil
    }

    private static func fixedFormat(_ output: OutputSpec) -> PCMFormat? {
        if case .fixed(let f) = output.rule { return f.pcm }
        return nil
    }
}
