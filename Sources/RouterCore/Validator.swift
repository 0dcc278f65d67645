import Foundation

/// A node instance after validation: its type, parameters and the resolved format of every linked port.
public struct ValidatedNode {
    public var name: String
    public var type: any NodeType.Type
    public var params: Parameters
    public var layout: PortLayout
    public var location: SourceLocation
    public var outputFormats: [String: MediaFormat] = [:]
}

/// A single link from an output port to an input port.
public struct ResolvedLink: Hashable {
    public var fromNode: String
    public var fromPort: String
    public var toNode: String
    public var toPort: String
    public var location: SourceLocation
    public var kind: MediaKind
}

/// A pipeline that passed validation: nodes in data-path order, links, and the clock pace.
public struct ValidatedPipeline {
    public var spec: PipelineSpec
    public var nodes: [ValidatedNode]
    public var links: [ResolvedLink]
    /// True when the session should run as fast as possible (file processing), false for wall-clock pacing.
    public var runsFast: Bool

    public func node(_ name: String) -> ValidatedNode? { nodes.first { $0.name == name } }
}

/// Checks a pipeline before anything starts and reports every problem at once, each with file:line:column and a hint.
public struct PipelineValidator {
    public let registry: NodeRegistry

    public init(registry: NodeRegistry) { self.registry = registry }

    /// Loads, interpolates and validates a pipeline file.
    public func load(path: String, environment: PipelineEnvironment) throws -> ValidatedPipeline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineErrors([PipelineDiagnostic(SourceLocation(file: path, line: 1, column: 1),
                                                     "cannot read pipeline file (does it exist?)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PipelineErrors([PipelineDiagnostic(SourceLocation(file: path, line: 1, column: 1),
                                                     "the pipeline file is not UTF-8 text")])
        }
        return try validate(yaml: text, file: path, environment: environment)
    }

    /// Validates pipeline YAML text; `file` names it in diagnostics.
    public func validate(yaml: String, file: String, environment: PipelineEnvironment) throws -> ValidatedPipeline {
        var diagnostics: [PipelineDiagnostic] = []
        let spec = PipelineSpec.parse(yaml: yaml, file: file, environment: environment, diagnostics: &diagnostics)
        let result = validate(spec, diagnostics: &diagnostics)
        if !diagnostics.isEmpty { throw PipelineErrors(diagnostics) }
        return result!
    }

    func validate(_ spec: PipelineSpec, diagnostics: inout [PipelineDiagnostic]) -> ValidatedPipeline? {
        var nodes: [String: ValidatedNode] = [:]
        var order: [String] = []
        for decl in spec.nodes {
            if let node = validateNode(decl, diagnostics: &diagnostics) {
                nodes[node.name] = node
                order.append(node.name)
            }
        }
        let declared = Set(spec.nodes.map(\.name.value))
        let links = resolveLinks(spec, nodes: nodes, declared: declared, diagnostics: &diagnostics)
        checkInputs(links, nodes: nodes, order: order, diagnostics: &diagnostics)
        guard let sorted = topologicalOrder(order, links: links, nodes: nodes, diagnostics: &diagnostics) else { return nil }
        var resolved = nodes
        resolveFormats(sorted, links: links, nodes: &resolved, diagnostics: &diagnostics)
        let runsFast = resolvePace(spec, nodes: sorted.compactMap { resolved[$0] }, diagnostics: &diagnostics)
        return ValidatedPipeline(spec: spec, nodes: sorted.compactMap { resolved[$0] }, links: links, runsFast: runsFast)
    }

    private func validateNode(_ decl: NodeDeclaration, diagnostics: inout [PipelineDiagnostic]) -> ValidatedNode? {
        guard let typeName = decl.type else { return nil }
        guard let type = registry.type(named: typeName.value) else {
            diagnostics.append(PipelineDiagnostic(typeName.location, "unknown node type '\(typeName.value)'."
                + Spelling.didYouMean(typeName.value, among: registry.typeNames),
                hint: "`router nodes` lists the available types"))
            return nil
        }
        var params = NodeRegistry.defaults(of: type)
        var given = Set<String>()
        var ok = true
        for (key, value) in decl.params {
            guard let schema = type.parameters.first(where: { $0.name == key.value }) else {
                let names = type.parameters.map(\.name)
                diagnostics.append(PipelineDiagnostic(key.location, "\(typeName.value) has no parameter '\(key.value)'."
                    + Spelling.didYouMean(key.value, among: names),
                    hint: names.isEmpty ? "\(typeName.value) takes no parameters"
                        : "\(typeName.value) parameters: \(names.joined(separator: ", "))"))
                ok = false
                continue
            }
            given.insert(key.value)
            switch schema.parse(value.value) {
            case .success(let v): params[key.value] = v
            case .failure(let message):
                diagnostics.append(PipelineDiagnostic(value.location, "node '\(decl.name.value)': \(message.message)",
                                                      hint: "expected \(schema.type)"))
                ok = false
            }
        }
        for schema in type.parameters where schema.isRequired && !given.contains(schema.name) {
            diagnostics.append(PipelineDiagnostic(decl.name.location,
                "node '\(decl.name.value)' (\(typeName.value)) is missing required parameter '\(schema.name)'",
                hint: "add '\(schema.name): <\(schema.type)>' — \(schema.doc)"))
            ok = false
        }
        guard ok else { return nil }
        for problem in type.check(params) {
            let location = decl.params.first { $0.key.value == problem.parameter }?.value.location ?? decl.name.location
            diagnostics.append(PipelineDiagnostic(location, "node '\(decl.name.value)': \(problem.message)"))
            ok = false
        }
        guard ok else { return nil }
        return ValidatedNode(name: decl.name.value, type: type, params: params, layout: type.ports(params),
                             location: decl.name.location)
    }

    private func resolveLinks(_ spec: PipelineSpec, nodes: [String: ValidatedNode], declared: Set<String>,
                              diagnostics: inout [PipelineDiagnostic]) -> [ResolvedLink] {
        var links: [ResolvedLink] = []
        let names = Array(declared).sorted()
        for chain in spec.links {
            var previousOutput: (node: String, port: OutputSpec)?
            for (index, endpoint) in chain.endpoints.enumerated() {
                let isFirst = index == 0, isLast = index == chain.endpoints.count - 1
                guard declared.contains(endpoint.node) else {
                    diagnostics.append(PipelineDiagnostic(endpoint.location, "unknown node '\(endpoint.node)' in link."
                        + Spelling.didYouMean(endpoint.node, among: names),
                        hint: "declare it under 'nodes:' or fix the name"))
                    previousOutput = nil
                    continue
                }
                guard let node = nodes[endpoint.node] else { previousOutput = nil; continue }  // already reported
                var inputPort: InputSpec?
                var outputPort: OutputSpec?
                if let port = endpoint.port {
                    let asInput = node.layout.inputs.first { $0.name == port }
                    let asOutput = node.layout.outputs.first { $0.name == port }
                    if isFirst { outputPort = asOutput } else if isLast { inputPort = asInput } else {
                        inputPort = asInput
                        outputPort = asInput == nil ? asOutput : node.layout.defaultOutput
                    }
                    if (isFirst && asOutput == nil) || (isLast && asInput == nil) || (!isFirst && !isLast && asInput == nil && asOutput == nil) {
                        let wanted = isFirst ? node.layout.outputs.map(\.name) : isLast ? node.layout.inputs.map(\.name)
                            : node.layout.inputs.map(\.name) + node.layout.outputs.map(\.name)
                        let direction = isFirst ? "output" : isLast ? "input" : "port"
                        diagnostics.append(PipelineDiagnostic(endpoint.location.advanced(by: endpoint.node.count + 1),
                            "\(node.type.typeName) node '\(node.name)' has no \(direction) '\(port)'."
                            + Spelling.didYouMean(port, among: wanted),
                            hint: wanted.isEmpty ? "it has no \(direction)s" : "its \(direction)s: \(wanted.joined(separator: ", "))"))
                        previousOutput = nil
                        continue
                    }
                } else {
                    if !isFirst {
                        inputPort = node.layout.defaultInput
                        if inputPort == nil {
                            reportAmbiguous(node, endpoint, names: node.layout.inputs.map(\.name), direction: "input", &diagnostics)
                            previousOutput = nil
                            continue
                        }
                    }
                    if !isLast {
                        outputPort = node.layout.defaultOutput
                        if outputPort == nil {
                            reportAmbiguous(node, endpoint, names: node.layout.outputs.map(\.name), direction: "output", &diagnostics)
                            previousOutput = nil
                            continue
                        }
                    }
                }
                if let from = previousOutput, let input = inputPort {
                    links.append(ResolvedLink(fromNode: from.node, fromPort: from.port.name, toNode: node.name,
                                              toPort: input.name, location: endpoint.location, kind: input.kind))
                }
                previousOutput = outputPort.map { (node.name, $0) }
            }
        }
        return links
    }

    private func reportAmbiguous(_ node: ValidatedNode, _ endpoint: LinkEndpoint, names: [String], direction: String,
                                 _ diagnostics: inout [PipelineDiagnostic]) {
        if names.isEmpty {
            diagnostics.append(PipelineDiagnostic(endpoint.location, "\(node.type.typeName) node '\(node.name)' has no \(direction)s",
                hint: direction == "input" ? "it is a source: put it first in the chain" : "it is a sink: put it last in the chain"))
        } else {
            diagnostics.append(PipelineDiagnostic(endpoint.location,
                "\(node.type.typeName) node '\(node.name)' has several \(direction)s (\(names.joined(separator: ", ")))",
                hint: "name one: '\(node.name).\(names[0])'"))
        }
    }

    private func checkInputs(_ links: [ResolvedLink], nodes: [String: ValidatedNode], order: [String],
                             diagnostics: inout [PipelineDiagnostic]) {
        var seen: [String: ResolvedLink] = [:]
        for link in links {
            let key = "\(link.toNode).\(link.toPort)"
            let spec = nodes[link.toNode]?.layout.inputs.first { $0.name == link.toPort }
            if let first = seen[key], spec?.acceptsMany != true {
                diagnostics.append(PipelineDiagnostic(link.location,
                    "input \(key) is linked twice (from \(first.fromNode).\(first.fromPort) at line \(first.location.line) and from \(link.fromNode).\(link.fromPort))",
                    hint: "an input takes one link; mix several sources with a Mixer node"))
            } else if seen[key] == nil {
                seen[key] = link
            }
        }
        for name in order {
            guard let node = nodes[name] else { continue }
            for input in node.layout.inputs where input.isRequired && seen["\(name).\(input.name)"] == nil {
                diagnostics.append(PipelineDiagnostic(node.location,
                    "required input \(name).\(input.name) (\(input.kind.displayName)) is not linked",
                    hint: "add a link such as '- <source> -> \(name).\(input.name)'"))
            }
        }
    }

    /// Orders nodes so every media producer runs before its consumers; event links do not count (they are delayed).
    private func topologicalOrder(_ order: [String], links: [ResolvedLink], nodes: [String: ValidatedNode],
                                  diagnostics: inout [PipelineDiagnostic]) -> [String]? {
        let media = links.filter { $0.kind != .event }
        var indegree = Dictionary(uniqueKeysWithValues: order.map { ($0, 0) })
        for l in media where indegree[l.toNode] != nil && indegree[l.fromNode] != nil { indegree[l.toNode]! += 1 }
        var ready = order.filter { indegree[$0] == 0 }
        var sorted: [String] = []
        while !ready.isEmpty {
            let n = ready.removeFirst()
            sorted.append(n)
            for l in media where l.fromNode == n && indegree[l.toNode] != nil {
                indegree[l.toNode]! -= 1
                if indegree[l.toNode] == 0 { ready.append(l.toNode) }
            }
        }
        if sorted.count < order.count {
            let inCycle = Set(order).subtracting(sorted)
            let link = media.first { inCycle.contains($0.fromNode) && inCycle.contains($0.toNode) }
            let where_ = link?.location ?? nodes[inCycle.sorted()[0]]!.location
            diagnostics.append(PipelineDiagnostic(where_,
                "the links form a cycle through \(inCycle.sorted().joined(separator: ", "))",
                hint: "media must flow one way; feed control back through an event port instead"))
            return nil
        }
        return sorted
    }

    private func resolveFormats(_ sorted: [String], links: [ResolvedLink], nodes: inout [String: ValidatedNode],
                                diagnostics: inout [PipelineDiagnostic]) {
        for name in sorted {
            guard var node = nodes[name] else { continue }
            var inputFormats: [String: MediaFormat] = [:]
            for input in node.layout.inputs {
                var first: (MediaFormat, ResolvedLink)?
                for link in links where link.toNode == name && link.toPort == input.name {
                    guard let format = nodes[link.fromNode]?.outputFormats[link.fromPort] else { continue }
                    let from = "\(link.fromNode).\(link.fromPort)", to = "\(name).\(input.name)"
                    if format.kind != input.kind {
                        let converters = registry.converters(from: format.kind, to: input.kind)
                        diagnostics.append(PipelineDiagnostic(link.location,
                            "\(from) is \(format) but \(to) needs \(input.kind.displayName)",
                            hint: converters.isEmpty ? "no node type converts \(format.kind.displayName) to \(input.kind.displayName)"
                                : "insert a \(converters.joined(separator: " or ")) node"))
                        continue
                    }
                    if case .exact(let want) = input.requirement, let have = format.pcm, have != want {
                        diagnostics.append(PipelineDiagnostic(link.location,
                            "\(from) is \(format) but \(to) needs \(want): insert a Resample node",
                            hint: "- \(link.fromNode) -> resample -> \(to) with 'resample: {type: Resample, rate: \(want.sampleRate), channels: \(want.channels)}'"))
                        continue
                    }
                    if let (earlier, earlierLink) = first, earlier != format {
                        diagnostics.append(PipelineDiagnostic(link.location,
                            "\(to) gets \(earlier) from \(earlierLink.fromNode) but \(format) from \(link.fromNode): insert a Resample node so they match"))
                        continue
                    }
                    if first == nil { first = (format, link) }
                }
                if let first { inputFormats[input.name] = first.0 }
            }
            for output in node.layout.outputs {
                switch output.rule {
                case .fixed(let f): node.outputFormats[output.name] = f
                case .sameAsInput(let input):
                    if let f = inputFormats[input] {
                        node.outputFormats[output.name] = MediaFormat(output.kind, pcm: f.pcm)
                    } else if links.contains(where: { $0.fromNode == name && $0.fromPort == output.name }),
                              !links.contains(where: { $0.toNode == name && $0.toPort == input }) {
                        diagnostics.append(PipelineDiagnostic(node.location,
                            "the format of \(name).\(output.name) follows \(name).\(input), which is not linked",
                            hint: "link \(name).\(input)"))
                    }
                }
            }
            nodes[name] = node
        }
    }

    private func resolvePace(_ spec: PipelineSpec, nodes: [ValidatedNode], diagnostics: inout [PipelineDiagnostic]) -> Bool {
        let prefs = nodes.map { ($0, $0.type.pacing($0.params)) }
        let realtime = prefs.filter { if case .realtime = $0.1 { return true } else { return false } }.map(\.0.name)
        let fast = prefs.contains { if case .fast = $0.1 { return true } else { return false } }
        switch spec.session.pace?.value {
        case "realtime": return false
        case "fast":
            if !realtime.isEmpty {
                diagnostics.append(PipelineDiagnostic(spec.session.pace!.location,
                    "session pace 'fast' is impossible: \(realtime.joined(separator: ", ")) need(s) real time",
                    hint: "use pace: realtime or auto"))
            }
            return true
        default:
            return realtime.isEmpty && fast
        }
    }
}
