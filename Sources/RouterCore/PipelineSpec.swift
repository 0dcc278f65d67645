import Foundation

/// A value and where it was written.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: SourceLocation
}

/// A node as declared in a pipeline file, before validation.
public struct NodeDeclaration: Sendable {
    public var name: Located<String>
    public var type: Located<String>?
    /// Parameters in file order, already interpolated.
    public var params: [(key: Located<String>, value: Located<String>)]
    /// Keys whose value was already reported (failed interpolation, not a single value); validation skips the node
    /// rather than report the same problem again as a missing type or parameter.
    public var unresolvedKeys: Set<String> = []
}

/// One element of a link chain: `node` or `node.port`.
public struct LinkEndpoint: Sendable {
    public var node: String
    public var port: String?
    public var location: SourceLocation

    public var text: String { port.map { "\(node).\($0)" } ?? node }
}

/// A chain `a -> b.port -> c` from the `links` list.
public struct LinkChain: Sendable {
    public var endpoints: [LinkEndpoint]
}

/// Session settings from the optional `session:` section.
public struct SessionSettings: Sendable {
    /// `auto` (the nodes decide), `realtime` or `fast`.
    public var pace: Located<String>?
    /// Seconds between metric reports in the log; nil for none.
    public var metricsInterval: Double?
}

/// A parsed pipeline file: nodes, links and settings with their source positions.
public struct PipelineSpec: Sendable {
    public var file: String
    public var name: String?
    public var description: String?
    public var nodes: [NodeDeclaration] = []
    public var links: [LinkChain] = []
    public var session = SessionSettings()
    /// The `nodes` section is missing, misspelt or not a mapping (reported): links cannot be checked against it.
    public var nodesUnreadable = false
    /// The `links` section, or an item of it, could not be read (reported): any input may be linked there.
    public var linksUnreadable = false
    /// Nodes after the first element of a chain that could not be parsed (reported): their input may be linked there.
    public var brokenLinkTargets: Set<String> = []

    static let topLevelKeys = ["name", "description", "nodes", "links", "session"]

    /// Parses YAML text. Syntax and shape problems are collected in `diagnostics`; parsing goes on where it can.
    public static func parse(
        yaml: String, file: String, environment: PipelineEnvironment,
        diagnostics: inout [PipelineDiagnostic]
    ) -> PipelineSpec {
        var spec = PipelineSpec(file: file)
        let root: YAMLNode
        switch YAMLDocument.parse(yaml, file: file) {
        case .failure(let problem):
            diagnostics.append(problem)
            spec.nodesUnreadable = true
            return spec
        case .success(nil):
            diagnostics.append(
                PipelineDiagnostic(
                    SourceLocation(file: file, line: 1, column: 1),
                    "the pipeline file is empty",
                    hint: "declare 'nodes:' and 'links:' (see pipelines/ for examples)"))
            return spec
        case .success(let node?):
            root = node
        }
        guard case .mapping(let top, _) = root else {
            diagnostics.append(
                PipelineDiagnostic(
                    root.location, "the top level must be a mapping with 'nodes' and 'links'",
                    hint:
                        "start the file with 'nodes:' (a mapping of node names) and 'links:' (a list of chains), not a list or a value"
                ))
            return spec
        }
        var sawNodes = false
        for (keyNode, value) in unique(
            top, diagnostics: &diagnostics, what: { "top-level key '\($0)'" },
            hint: { "each section appears once: merge the two '\($0):' sections" })
        {
            let key = keyNode.string ?? ""
            switch key {
            case "name": spec.name = value.string
            case "description": spec.description = value.string
            case "nodes":
                sawNodes = true
                parseNodes(value, into: &spec, environment: environment, diagnostics: &diagnostics)
            case "links":
                parseLinks(value, into: &spec, diagnostics: &diagnostics)
            case "session":
                parseSession(value, into: &spec, environment: environment, diagnostics: &diagnostics)
            default:
                diagnostics.append(
                    PipelineDiagnostic(
                        keyNode.location,
                        "unknown top-level key '\(key)'."
                            + Spelling.didYouMean(key, among: topLevelKeys),
                        hint: "top-level keys are \(topLevelKeys.joined(separator: ", "))"))
                // A misspelt section was read as nothing: do not report its absence a second time.
                switch Spelling.suggestion(for: key, among: topLevelKeys) {
                case "nodes": spec.nodesUnreadable = true
                case "links": spec.linksUnreadable = true
                default: break
                }
            }
        }
        if !sawNodes && !spec.nodesUnreadable {
            diagnostics.append(
                PipelineDiagnostic(
                    root.location, "the pipeline has no 'nodes' section",
                    hint: "add 'nodes:' with at least one node"))
        }
        if !sawNodes { spec.nodesUnreadable = true }
        return spec
    }

    /// The pairs of a mapping, each key once: a repeated key is reported where it is written again (naming the line of
    /// the first) and left out, so the rest of the file is still checked.
    static func unique(
        _ pairs: [(key: YAMLNode, value: YAMLNode)], diagnostics: inout [PipelineDiagnostic],
        what: (String) -> String, hint: (String) -> String
    ) -> [(key: YAMLNode, value: YAMLNode)] {
        var first: [String: SourceLocation] = [:]
        var kept: [(key: YAMLNode, value: YAMLNode)] = []
        for pair in pairs {
            guard let key = pair.key.string else {
                kept.append(pair)
                continue
            }
            if let earlier = first[key] {
                diagnostics.append(
                    PipelineDiagnostic(
                        pair.key.location,
                        "duplicate \(what(key)) (first at line \(earlier.line), column \(earlier.column))",
                        hint: hint(key)))
                continue
            }
            first[key] = pair.key.location
            kept.append(pair)
        }
        return kept
    }

    private static func parseNodes(
        _ value: YAMLNode, into spec: inout PipelineSpec, environment: PipelineEnvironment,
        diagnostics: inout [PipelineDiagnostic]
    ) {
        guard case .mapping(let nodes, _) = value else {
            diagnostics.append(
                PipelineDiagnostic(
                    value.location, "'nodes' must be a mapping of node names to their settings",
                    hint: "write 'nodes:' then indented 'name: {type: Mixer}' entries"))
            spec.nodesUnreadable = true
            return
        }
        if nodes.isEmpty {
            diagnostics.append(
                PipelineDiagnostic(
                    value.location, "'nodes' is empty",
                    hint: "declare at least one node, e.g. 'source: {type: WavIn, path: in.wav}'"))
        }
        for (nameNode, body) in unique(
            nodes, diagnostics: &diagnostics, what: { "node name '\($0)'" },
            hint: { "node names must be unique: rename one '\($0)' (links use the name)" })
        {
            let name = nameNode.string ?? ""
            let nameLoc = nameNode.location
            if !isValidName(name) {
                diagnostics.append(
                    PipelineDiagnostic(
                        nameLoc, "'\(name)' is not a valid node name",
                        hint: "use letters, digits, '_' and '-', starting with a letter"))
                continue
            }
            var decl = NodeDeclaration(name: Located(value: name, location: nameLoc), type: nil, params: [])
            guard case .mapping(let fields, _) = body else {
                diagnostics.append(
                    PipelineDiagnostic(
                        body.location, "node '\(name)' must be a mapping with a 'type'",
                        hint: "write '\(name): {type: Mixer}'"))
                // Still declared, so links naming it are not reported as unknown nodes.
                decl.unresolvedKeys.insert("type")
                spec.nodes.append(decl)
                continue
            }
            for (k, v) in unique(
                fields, diagnostics: &diagnostics, what: { "parameter '\($0)' of node '\(name)'" },
                hint: { "set '\($0)' once: remove one of the two" })
            {
                let key = k.string ?? ""
                guard case .scalar(let scalar) = v else {
                    diagnostics.append(
                        PipelineDiagnostic(
                            v.location, "parameter '\(key)' of node '\(name)' must be a single value",
                            hint: "write one value, e.g. '\(key): value' (quote it if it contains ',', '[' or '{')"))
                    decl.unresolvedKeys.insert(key)
                    continue
                }
                let valueLoc = v.location
                switch environment.interpolate(scalar.string) {
                case .success(let text):
                    if key == "type" {
                        decl.type = Located(value: text, location: valueLoc)
                    } else {
                        decl.params.append(
                            (Located(value: key, location: k.location), Located(value: text, location: valueLoc)))
                    }
                case .failure(let problem):
                    diagnostics.append(
                        PipelineDiagnostic(
                            valueLoc.advanced(by: problem.offset + (scalar.isQuoted ? 1 : 0)),
                            problem.message, hint: problem.hint))
                    decl.unresolvedKeys.insert(key)
                }
            }
            if decl.type == nil && !decl.unresolvedKeys.contains("type") {
                diagnostics.append(
                    PipelineDiagnostic(
                        nameLoc, "node '\(name)' has no 'type'",
                        hint: "add 'type: <NodeType>' (router nodes lists them)"))
            }
            spec.nodes.append(decl)
        }
    }

    private static func parseLinks(
        _ value: YAMLNode, into spec: inout PipelineSpec, diagnostics: inout [PipelineDiagnostic]
    ) {
        guard case .sequence(let items, _) = value else {
            diagnostics.append(
                PipelineDiagnostic(
                    value.location, "'links' must be a list of chains",
                    hint: "write '- source -> mixer -> sink' items"))
            spec.linksUnreadable = true
            return
        }
        for item in items {
            guard case .scalar(let scalar) = item else {
                diagnostics.append(
                    PipelineDiagnostic(
                        item.location, "each link must be a chain like 'a -> b.port -> c'",
                        hint: "write the item as one line: '- a -> b.port -> c' (not a mapping or a nested list)"))
                spec.linksUnreadable = true
                continue
            }
            let base = scalar.location.advanced(by: scalar.isQuoted ? 1 : 0)
            if let chain = parseChain(scalar.string, at: base, diagnostics: &diagnostics) {
                spec.links.append(chain)
            } else {
                for element in scalar.string.components(separatedBy: "->").dropFirst() {
                    let node =
                        element.split(separator: ".", omittingEmptySubsequences: false).first.map(String.init)?
                        .trimmingCharacters(in: .whitespaces) ?? ""
                    if isValidName(node) { spec.brokenLinkTargets.insert(node) }
                }
            }
        }
    }

    /// Parses `a -> b.port -> c`, locating each element by its column.
    static func parseChain(_ text: String, at base: SourceLocation, diagnostics: inout [PipelineDiagnostic])
        -> LinkChain?
    {
        let chars = Array(text)
        var endpoints: [LinkEndpoint] = []
        var start = 0
        var ok = true
        func element(_ from: Int, _ to: Int) {
            var a = from, b = to
            while a < b, chars[a] == " " { a += 1 }
            while b > a, chars[b - 1] == " " { b -= 1 }
            let word = String(chars[a..<b])
            let where_ = base.advanced(by: a)
            if word.isEmpty {
                diagnostics.append(
                    PipelineDiagnostic(
                        where_, "missing node name in link '\(text)'",
                        hint: "each '->' needs a node on both sides"))
                ok = false
                return
            }
            let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, parts.allSatisfy(isValidName) else {
                diagnostics.append(
                    PipelineDiagnostic(
                        where_, "'\(word)' is not a node or node.port",
                        hint: "write 'node' or 'node.port', joined by '->'"))
                ok = false
                return
            }
            endpoints.append(LinkEndpoint(node: parts[0], port: parts.count == 2 ? parts[1] : nil, location: where_))
        }
        var i = 0
        while i < chars.count {
            if chars[i] == "-", i + 1 < chars.count, chars[i + 1] == ">" {
                element(start, i)
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        element(start, chars.count)
        if ok && endpoints.count < 2 {
            diagnostics.append(
                PipelineDiagnostic(
                    base, "link '\(text)' needs at least two nodes joined by '->'",
                    hint: "write 'source -> sink'"))
            ok = false
        }
        return ok ? LinkChain(endpoints: endpoints) : nil
    }

    private static func parseSession(
        _ value: YAMLNode, into spec: inout PipelineSpec, environment: PipelineEnvironment,
        diagnostics: inout [PipelineDiagnostic]
    ) {
        guard case .mapping(let fields, _) = value else {
            diagnostics.append(
                PipelineDiagnostic(
                    value.location, "'session' must be a mapping",
                    hint: "write 'session: {pace: auto, metrics_interval: 10s}'"))
            return
        }
        for (k, v) in unique(
            fields, diagnostics: &diagnostics, what: { "session setting '\($0)'" },
            hint: { "set '\($0)' once: remove one of the two" })
        {
            let key = k.string ?? ""
            let text: String
            switch environment.interpolate(v.string ?? "") {
            case .success(let t): text = t
            case .failure(let p):
                // Like node parameters: a quoted value's text starts one column after its opening quote.
                var quoted = false
                if case .scalar(let s) = v { quoted = s.isQuoted }
                diagnostics.append(
                    PipelineDiagnostic(v.location.advanced(by: p.offset + (quoted ? 1 : 0)), p.message, hint: p.hint))
                continue
            }
            switch key {
            case "pace":
                guard ["auto", "realtime", "fast"].contains(text) else {
                    diagnostics.append(
                        PipelineDiagnostic(
                            v.location, "session pace must be auto, realtime or fast, not '\(text)'",
                            hint:
                                "auto lets the nodes decide (fast for file-only pipelines); realtime follows the wall clock; fast runs flat out"
                        ))
                    continue
                }
                spec.session.pace = Located(value: text, location: v.location)
            case "metrics_interval":
                guard let seconds = ParameterSpec.parseDuration(text), seconds > 0 else {
                    diagnostics.append(
                        PipelineDiagnostic(
                            v.location, "metrics_interval must be a duration such as 5s, not '\(text)'",
                            hint: "write seconds as 10s, 500ms or 1.5 (more than 0)"))
                    continue
                }
                spec.session.metricsInterval = seconds
            default:
                diagnostics.append(
                    PipelineDiagnostic(
                        k.location,
                        "unknown session setting '\(key)'."
                            + Spelling.didYouMean(key, among: ["pace", "metrics_interval"]),
                        hint: "session settings are pace and metrics_interval"))
            }
        }
    }

    static func isValidName(_ s: String) -> Bool {
        guard let first = s.first, first.isLetter || first == "_" else { return false }
        return s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }
}
