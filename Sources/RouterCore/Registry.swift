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
                if case .exact(let f) = i.requirement { fmt = "\(f) \(fmt)" } else if i.kind == .pcm || i.kind == .pcmStreams { fmt = "any-rate \(fmt)" }
                let flags = [i.isRequired ? "required" : "optional", i.acceptsMany ? "many links" : nil].compactMap { $0 }
                out.append("  in  \(i.name): \(fmt) (\(flags.joined(separator: ", "))) — \(i.doc)")
            }
            for o in layout.outputs {
                let fmt: String
                switch o.rule {
                case .fixed(let f): fmt = f.description
                case .sameAsInput(let input): fmt = "\(o.kind.displayName), same format as \(input)"
                }
                out.append("  out \(o.name): \(fmt) — \(o.doc)")
            }
            for p in type.parameters {
                let def = p.isRequired ? "required" : (p.defaultValue.map { "default \($0)" } ?? "optional")
                out.append("  param \(p.name): \(p.type) (\(def)) — \(p.doc)")
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}
