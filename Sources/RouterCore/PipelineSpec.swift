import Foundation
import Yams

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
    public static func parse(yaml: String, file: String, environment: PipelineEnvironment,
                             diagnostics: inout [PipelineDiagnostic]) -> PipelineSpec {
        var spec = PipelineSpec(file: file)
        func loc(_ mark: Mark?) -> SourceLocation {
            SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
        }
        let root: Yams.Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                diagnostics.append(PipelineDiagnostic(SourceLocation(file: file, line: 1, column: 1),
                                                      "the pipeline file is empty",
                                                      hint: "declare 'nodes:' and 'links:' (see pipelines/ for examples)"))
                return spec
            }
            root = node
        } catch let error as YamlError {
            diagnostics.append(yamlDiagnostic(error, yaml: yaml, file: file))
            return spec
        } catch {
            diagnostics.append(PipelineDiagnostic(SourceLocation(file: file, line: 1, column: 1), "\(error)"))
            return spec
        }
        guard case .mapping(let top) = root else {
            diagnostics.append(PipelineDiagnostic(loc(root.mark), "the top level must be a mapping with 'nodes' and 'links'"))
            return spec
        }
        var sawNodes = false
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            switch key {
            case "name": spec.name = value.string
            case "description": spec.description = value.string
            case "nodes":
                sawNodes = true
                parseNodes(value, into: &spec, environment: environment, diagnostics: &diagnostics, loc: loc)
            case "links":
                parseLinks(value, into: &spec, diagnostics: &diagnostics, loc: loc)
            case "session":
                parseSession(value, into: &spec, environment: environment, diagnostics: &diagnostics, loc: loc)
            default:
                diagnostics.append(PipelineDiagnostic(loc(keyNode.mark), "unknown top-level key '\(key)'."
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
            diagnostics.append(PipelineDiagnostic(loc(root.mark), "the pipeline has no 'nodes' section",
                                                  hint: "add 'nodes:' with at least one node"))
        }
        if !sawNodes { spec.nodesUnreadable = true }
        return spec
    }

    private static func parseNodes(_ value: Yams.Node, into spec: inout PipelineSpec, environment: PipelineEnvironment,
                                   diagnostics: inout [PipelineDiagnostic], loc: (Mark?) -> SourceLocation) {
        guard case .mapping(let nodes) = value else {
            diagnostics.append(PipelineDiagnostic(loc(value.mark), "'nodes' must be a mapping of node names to their settings",
                                                  hint: "write 'nodes:' then indented 'name: {type: Mixer}' entries"))
            spec.nodesUnreadable = true
            return
        }
        if nodes.isEmpty {
            diagnostics.append(PipelineDiagnostic(loc(value.mark), "'nodes' is empty",
                                                  hint: "declare at least one node, e.g. 'source: {type: WavIn, path: in.wav}'"))
        }
        for (nameNode, body) in nodes {
            let name = nameNode.string ?? ""
            let nameLoc = loc(nameNode.mark)
            if !isValidName(name) {
                diagnostics.append(PipelineDiagnostic(nameLoc, "'\(name)' is not a valid node name",
                                                      hint: "use letters, digits, '_' and '-', starting with a letter"))
                continue
            }
            var decl = NodeDeclaration(name: Located(value: name, location: nameLoc), type: nil, params: [])
            guard case .mapping(let fields) = body else {
                diagnostics.append(PipelineDiagnostic(loc(body.mark), "node '\(name)' must be a mapping with a 'type'",
                                                      hint: "write '\(name): {type: Mixer}'"))
                // Still declared, so links naming it are not reported as unknown nodes.
                decl.unresolvedKeys.insert("type")
                spec.nodes.append(decl)
                continue
            }
            for (k, v) in fields {
                let key = k.string ?? ""
                guard case .scalar(let scalar) = v else {
                    diagnostics.append(PipelineDiagnostic(loc(v.mark), "parameter '\(key)' of node '\(name)' must be a single value"))
                    decl.unresolvedKeys.insert(key)
                    continue
                }
                let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
                let valueLoc = loc(v.mark)
                switch environment.interpolate(scalar.string) {
                case .success(let text):
                    if key == "type" {
                        decl.type = Located(value: text, location: valueLoc)
                    } else {
                        decl.params.append((Located(value: key, location: loc(k.mark)), Located(value: text, location: valueLoc)))
                    }
                case .failure(let problem):
                    diagnostics.append(PipelineDiagnostic(valueLoc.advanced(by: problem.offset + (quoted ? 1 : 0)),
                                                          problem.message, hint: problem.hint))
                    decl.unresolvedKeys.insert(key)
                }
            }
            if decl.type == nil && !decl.unresolvedKeys.contains("type") {
                diagnostics.append(PipelineDiagnostic(nameLoc, "node '\(name)' has no 'type'",
                                                      hint: "add 'type: <NodeType>' (router nodes lists them)"))
            }
            spec.nodes.append(decl)
        }
    }

    private static func parseLinks(_ value: Yams.Node, into spec: inout PipelineSpec,
                                   diagnostics: inout [PipelineDiagnostic], loc: (Mark?) -> SourceLocation) {
        guard case .sequence(let items) = value else {
            diagnostics.append(PipelineDiagnostic(loc(value.mark), "'links' must be a list of chains",
                                                  hint: "write '- source -> mixer -> sink' items"))
            spec.linksUnreadable = true
            return
        }
        for item in items {
            guard case .scalar(let scalar) = item else {
                diagnostics.append(PipelineDiagnostic(loc(item.mark), "each link must be a chain like 'a -> b.port -> c'"))
                spec.linksUnreadable = true
                continue
            }
            let base = loc(item.mark).advanced(by: scalar.style == .plain ? 0 : 1)
            if let chain = parseChain(scalar.string, at: base, diagnostics: &diagnostics) {
                spec.links.append(chain)
            } else {
                for element in scalar.string.components(separatedBy: "->").dropFirst() {
                    let node = element.split(separator: ".", omittingEmptySubsequences: false).first.map(String.init)?
                        .trimmingCharacters(in: .whitespaces) ?? ""
                    if isValidName(node) { spec.brokenLinkTargets.insert(node) }
                }
            }
        }
    }

    /// Parses `a -> b.port -> c`, locating each element by its column.
    static func parseChain(_ text: String, at base: SourceLocation, diagnostics: inout [PipelineDiagnostic]) -> LinkChain? {
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
                diagnostics.append(PipelineDiagnostic(where_, "missing node name in link '\(text)'",
                                                      hint: "each '->' needs a node on both sides"))
                ok = false
                return
            }
            let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, parts.allSatisfy(isValidName) else {
                diagnostics.append(PipelineDiagnostic(where_, "'\(word)' is not a node or node.port",
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
            diagnostics.append(PipelineDiagnostic(base, "link '\(text)' needs at least two nodes joined by '->'",
                                                  hint: "write 'source -> sink'"))
            ok = false
        }
        return ok ? LinkChain(endpoints: endpoints) : nil
    }

    private static func parseSession(_ value: Yams.Node, into spec: inout PipelineSpec, environment: PipelineEnvironment,
                                     diagnostics: inout [PipelineDiagnostic], loc: (Mark?) -> SourceLocation) {
        guard case .mapping(let fields) = value else {
            diagnostics.append(PipelineDiagnostic(loc(value.mark), "'session' must be a mapping"))
            return
        }
        for (k, v) in fields {
            let key = k.string ?? ""
            let text: String
            switch environment.interpolate(v.string ?? "") {
            case .success(let t): text = t
            case .failure(let p):
                // Like node parameters: a quoted value's text starts one column after its opening quote.
                let quoted: Bool
                if case .scalar(let s) = v { quoted = s.style == .singleQuoted || s.style == .doubleQuoted } else { quoted = false }
                diagnostics.append(PipelineDiagnostic(loc(v.mark).advanced(by: p.offset + (quoted ? 1 : 0)), p.message, hint: p.hint))
                continue
            }
            switch key {
            case "pace":
                guard ["auto", "realtime", "fast"].contains(text) else {
                    diagnostics.append(PipelineDiagnostic(loc(v.mark), "session pace must be auto, realtime or fast, not '\(text)'"))
                    continue
                }
                spec.session.pace = Located(value: text, location: loc(v.mark))
            case "metrics_interval":
                guard let seconds = ParameterSpec.parseDuration(text), seconds > 0 else {
                    diagnostics.append(PipelineDiagnostic(loc(v.mark), "metrics_interval must be a duration such as 5s"))
                    continue
                }
                spec.session.metricsInterval = seconds
            default:
                diagnostics.append(PipelineDiagnostic(loc(k.mark), "unknown session setting '\(key)'."
                    + Spelling.didYouMean(key, among: ["pace", "metrics_interval"]),
                    hint: "session settings are pace and metrics_interval"))
            }
        }
    }

    static func isValidName(_ s: String) -> Bool {
        guard let first = s.first, first.isLetter || first == "_" else { return false }
        return s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    static func yamlDiagnostic(_ error: YamlError, yaml: String, file: String) -> PipelineDiagnostic {
        func at(_ m: Mark) -> SourceLocation { SourceLocation(file: file, line: m.line, column: m.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "YAML syntax: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            return PipelineDiagnostic(at(mark), message, hint: "check indentation and ':' after keys; use spaces, not tabs")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let where_ = secondOccurrence(of: key, after: context.mark, in: yaml, file: file) ?? at(context.mark)
            return PipelineDiagnostic(where_, "duplicate name '\(key)'", hint: "every node name and key must be unique")
        case .reader(let problem, _, _, _):
            return PipelineDiagnostic(SourceLocation(file: file, line: 1, column: 1), "cannot read the file: \(problem)",
                                      hint: "pipeline files must be UTF-8 text")
        default:
            return PipelineDiagnostic(SourceLocation(file: file, line: 1, column: 1), "YAML error: \(error)")
        }
    }

    /// Where `key` appears again in the same mapping as its first occurrence at `first`: later on the same line (flow
    /// style), or on a later line at the same column (block style). Other mappings may use the same key legitimately.
    private static func secondOccurrence(of key: String, after first: Mark, in yaml: String, file: String) -> SourceLocation? {
        let lines = yaml.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { Array($0) }
        guard first.line >= 1, first.line <= lines.count else { return nil }
        let pattern = Array(key + ":")
        func matches(_ line: [Character], at index: Int) -> Bool {
            index >= 0 && index + pattern.count <= line.count && Array(line[index..<(index + pattern.count)]) == pattern
        }
        let firstLine = lines[first.line - 1]
        var i = first.column - 1 + pattern.count
        while i < firstLine.count {
            if matches(firstLine, at: i), i > 0, firstLine[i - 1] == " " || firstLine[i - 1] == "," || firstLine[i - 1] == "{" {
                return SourceLocation(file: file, line: first.line, column: i + 1)
            }
            i += 1
        }
        for n in first.line..<lines.count {
            let line = lines[n], column = first.column - 1
            if matches(line, at: column), line[..<column].allSatisfy({ $0 == " " || $0 == "-" }) {
                return SourceLocation(file: file, line: n + 1, column: column + 1)
            }
        }
        return nil
    }
}
