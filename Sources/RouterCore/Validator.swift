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
            throw PipelineErrors([
                PipelineDiagnostic(
                    SourceLocation(file: path, line: 1, column: 1),
                    "cannot read pipeline file (does it exist?)",
                    hint: "check the path; relative paths start at the current folder")
            ])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PipelineErrors([
                PipelineDiagnostic(
                    SourceLocation(file: path, line: 1, column: 1),
                    "the pipeline file is not UTF-8 text",
                    hint: "save it as UTF-8 (pipeline files are YAML text)")
            ])
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
        var brokenTargets = spec.brokenLinkTargets
        // Without readable nodes every link would name an "unknown" node; without readable links any input may be linked.
        let links =
            spec.nodesUnreadable
            ? []
            : resolveLinks(
                spec, nodes: nodes, declared: declared, brokenTargets: &brokenTargets, diagnostics: &diagnostics)
        if spec.linksUnreadable { brokenTargets.formUnion(declared) }
        checkInputs(links, nodes: nodes, order: order, brokenTargets: brokenTargets, diagnostics: &diagnostics)
        // A cycle is reported, and formats are still checked where they can be known: the ordered (acyclic) part first,
        // then the rest in file order (links from a node whose format is unknown are skipped, not guessed).
        let (sorted, acyclic) = topologicalOrder(order, links: links, nodes: nodes, diagnostics: &diagnostics)
        let formatOrder = sorted + order.filter { !sorted.contains($0) }
        var resolved = nodes
        resolveFormats(formatOrder, links: links, nodes: &resolved, diagnostics: &diagnostics)
        let runsFast = resolvePace(spec, nodes: formatOrder.compactMap { resolved[$0] }, diagnostics: &diagnostics)
        guard acyclic else { return nil }
        return ValidatedPipeline(
            spec: spec, nodes: sorted.compactMap { resolved[$0] }, links: links, runsFast: runsFast)
    }

    private func validateNode(_ decl: NodeDeclaration, diagnostics: inout [PipelineDiagnostic]) -> ValidatedNode? {
        guard let typeName = decl.type else { return nil }
        guard let type = registry.type(named: typeName.value) else {
            diagnostics.append(
                PipelineDiagnostic(
                    typeName.location,
                    "unknown node type '\(typeName.value)'."
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
                diagnostics.append(
                    PipelineDiagnostic(
                        key.location,
                        "\(typeName.value) has no parameter '\(key.value)'."
                            + Spelling.didYouMean(key.value, among: names),
                        hint: names.isEmpty
                            ? "\(typeName.value) takes no parameters"
                            : "\(typeName.value) parameters: \(names.joined(separator: ", "))"))
                ok = false
                continue
            }
            given.insert(key.value)
            switch schema.parse(value.value) {
            case .success(let v): params[key.value] = v
            case .failure(let problem):
                diagnostics.append(
                    PipelineDiagnostic(
                        value.location, "node '\(decl.name.value)': \(problem.message)",
                        hint: problem.hint ?? "expected \(schema.type)"))
                ok = false
            }
        }
        for schema in type.parameters
        where schema.isRequired && !given.contains(schema.name)
            && !decl.unresolvedKeys.contains(schema.name)
        {
            diagnostics.append(
                PipelineDiagnostic(
                    decl.name.location,
                    "node '\(decl.name.value)' (\(typeName.value)) is missing required parameter '\(schema.name)'",
                    hint: "add '\(schema.name): <\(schema.type)>' — \(schema.doc)"))
            ok = false
        }
        // A value that could not be read was reported already; checking without it would only add noise.
        guard ok, decl.unresolvedKeys.isEmpty else { return nil }
        for problem in type.check(params) {
            let location = decl.params.first { $0.key.value == problem.parameter }?.value.location ?? decl.name.location
            let schema = type.parameters.first { $0.name == problem.parameter }
            let hint =
                problem.hint ?? schema.map { "'\($0.name)' is a \($0.type): \($0.doc)" }
                ?? "`router nodes \(typeName.value)` describes its parameters"
            diagnostics.append(
                PipelineDiagnostic(location, "node '\(decl.name.value)': \(problem.message)", hint: hint))
            ok = false
        }
        guard ok else { return nil }
        return ValidatedNode(
            name: decl.name.value, type: type, params: params, layout: type.ports(params),
            location: decl.name.location)
    }

    /// Resolves every chain into single links. `brokenTargets` collects nodes that follow a broken element in a chain:
    /// their incoming link is unknown, so an unlinked input there is not reported a second time.
    private func resolveLinks(
        _ spec: PipelineSpec, nodes: [String: ValidatedNode], declared: Set<String>,
        brokenTargets: inout Set<String>, diagnostics: inout [PipelineDiagnostic]
    ) -> [ResolvedLink] {
        var links: [ResolvedLink] = []
        let names = Array(declared).sorted()
        for chain in spec.links {
            var previousOutput: (node: String, port: OutputSpec)?
            for (index, endpoint) in chain.endpoints.enumerated() {
                let isFirst = index == 0, isLast = index == chain.endpoints.count - 1
                if !isFirst && previousOutput == nil { brokenTargets.insert(endpoint.node) }
                guard declared.contains(endpoint.node) else {
                    diagnostics.append(
                        PipelineDiagnostic(
                            endpoint.location,
                            "unknown node '\(endpoint.node)' in link."
                                + Spelling.didYouMean(endpoint.node, among: names),
                            hint: "declare it under 'nodes:' or fix the name"))
                    previousOutput = nil
                    continue
                }
                guard let node = nodes[endpoint.node] else {
                    previousOutput = nil
                    continue
                }  // already reported
                var inputPort: InputSpec?
                var outputPort: OutputSpec?
                if let port = endpoint.port {
                    let asInput = node.layout.inputs.first { $0.name == port }
                    let asOutput = node.layout.outputs.first { $0.name == port }
                    if (isFirst && asOutput == nil) || (isLast && asInput == nil)
                        || (!isFirst && !isLast && asInput == nil && asOutput == nil)
                    {
                        let wanted =
                            isFirst
                            ? node.layout.outputs.map(\.name)
                            : isLast
                                ? node.layout.inputs.map(\.name)
                                : node.layout.inputs.map(\.name) + node.layout.outputs.map(\.name)
                        let direction = isFirst ? "output" : isLast ? "input" : "port"
                        var hint =
                            wanted.isEmpty
                            ? "it has no \(direction)s" : "its \(direction)s: \(wanted.joined(separator: ", "))"
                        // The port exists, on the other side: say so rather than only list the right side.
                        if isFirst && asInput != nil {
                            hint = "'\(port)' is an input, so it cannot start a link; " + hint
                        }
                        if isLast && asOutput != nil {
                            hint = "'\(port)' is an output, so it cannot end a link; " + hint
                        }
                        diagnostics.append(
                            PipelineDiagnostic(
                                endpoint.location.advanced(by: endpoint.node.count + 1),
                                "\(node.type.typeName) node '\(node.name)' has no \(direction) '\(port)'."
                                    + Spelling.didYouMean(port, among: wanted), hint: hint))
                        if !isFirst { brokenTargets.insert(node.name) }
                        previousOutput = nil
                        continue
                    }
                    // First: the link leaves here. Last: it enters here. In the middle, a named input is where the link
                    // enters and a named output where it leaves (a port on both sides is both); defaults fill the rest.
                    if !isLast { outputPort = asOutput }
                    if !isFirst { inputPort = asInput }
                }
                if !isFirst && inputPort == nil {
                    inputPort = node.layout.defaultInput
                    if inputPort == nil {
                        reportAmbiguous(
                            node, endpoint, names: node.layout.inputs.map(\.name), direction: "input", &diagnostics)
                        brokenTargets.insert(node.name)
                        previousOutput = nil
                        continue
                    }
                }
                if let from = previousOutput, let input = inputPort {
                    links.append(
                        ResolvedLink(
                            fromNode: from.node, fromPort: from.port.name, toNode: node.name,
                            toPort: input.name, location: endpoint.location, kind: input.kind))
                }
                if !isLast && outputPort == nil {
                    outputPort = node.layout.defaultOutput
                    if outputPort == nil {
                        reportAmbiguous(
                            node, endpoint, names: node.layout.outputs.map(\.name), direction: "output", &diagnostics)
                        previousOutput = nil
                        continue
                    }
                }
                previousOutput = outputPort.map { (node.name, $0) }
            }
        }
        return links
    }

    private func reportAmbiguous(
        _ node: ValidatedNode, _ endpoint: LinkEndpoint, names: [String], direction: String,
        _ diagnostics: inout [PipelineDiagnostic]
    ) {
        if names.isEmpty {
            diagnostics.append(
                PipelineDiagnostic(
                    endpoint.location, "\(node.type.typeName) node '\(node.name)' has no \(direction)s",
                    hint: direction == "input"
                        ? "it is a source: put it first in the chain" : "it is a sink: put it last in the chain"))
        } else {
            diagnostics.append(
                PipelineDiagnostic(
                    endpoint.location,
                    "\(node.type.typeName) node '\(node.name)' has several \(direction)s (\(names.joined(separator: ", ")))",
                    hint: "name one: '\(node.name).\(names[0])'"))
        }
    }

    private func checkInputs(
        _ links: [ResolvedLink], nodes: [String: ValidatedNode], order: [String],
        brokenTargets: Set<String>, diagnostics: inout [PipelineDiagnostic]
    ) {
        var seen: [String: ResolvedLink] = [:]
        for link in links {
            let key = "\(link.toNode).\(link.toPort)"
            let spec = nodes[link.toNode]?.layout.inputs.first { $0.name == link.toPort }
            if let first = seen[key], spec?.acceptsMany != true {
                diagnostics.append(
                    PipelineDiagnostic(
                        link.location,
                        "input \(key) is linked twice (from \(first.fromNode).\(first.fromPort) at line \(first.location.line) and from \(link.fromNode).\(link.fromPort))",
                        hint: "an input takes one link; mix several sources with a Mixer node"))
            } else if seen[key] == nil {
                seen[key] = link
            }
        }
        for name in order where !brokenTargets.contains(name) {
            guard let node = nodes[name] else { continue }
            for input in node.layout.inputs where input.isRequired && seen["\(name).\(input.name)"] == nil {
                diagnostics.append(
                    PipelineDiagnostic(
                        node.location,
                        "required input \(name).\(input.name) (\(input.kind.displayName)) is not linked",
                        hint: "add a link such as '- <source> -> \(name).\(input.name)'"))
            }
        }
    }

    /// Orders nodes so every media producer runs before its consumers; event links do not count (they are delayed).
    /// With a cycle (reported), `sorted` holds only the nodes that could be ordered and `acyclic` is false.
    private func topologicalOrder(
        _ order: [String], links: [ResolvedLink], nodes: [String: ValidatedNode],
        diagnostics: inout [PipelineDiagnostic]
    ) -> (sorted: [String], acyclic: Bool) {
        // A link with an event on either side is delayed a tick (or a mismatch reported later): it does not order nodes.
        let media = links.filter { $0.kind != .event && outputKind(of: $0, in: nodes) != .event }
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
            // What Kahn's algorithm leaves also holds nodes merely downstream of a cycle: peel off, repeatedly, those
            // with no media link back into the remainder, so the message names only nodes on a cycle.
            var inCycle = Set(order).subtracting(sorted)
            var peeled = true
            while peeled {
                peeled = false
                for n in inCycle where !media.contains(where: { $0.fromNode == n && inCycle.contains($0.toNode) }) {
                    inCycle.remove(n)
                    peeled = true
                }
            }
            let link = media.first { inCycle.contains($0.fromNode) && inCycle.contains($0.toNode) }
            let where_ = link?.location ?? nodes[inCycle.sorted()[0]]!.location
            diagnostics.append(
                PipelineDiagnostic(
                    where_,
                    "the links form a cycle through \(inCycle.sorted().joined(separator: ", "))",
                    hint: "media must flow one way; feed control back through an event port instead"))
            return (sorted, false)
        }
        return (sorted, true)
    }

    private func resolveFormats(
        _ sorted: [String], links: [ResolvedLink], nodes: inout [String: ValidatedNode],
        diagnostics: inout [PipelineDiagnostic]
    ) {
        for name in sorted {
            guard var node = nodes[name] else { continue }
            var inputFormats: [String: MediaFormat] = [:]
            for input in node.layout.inputs {
                var first: (MediaFormat, ResolvedLink)?
                for link in links where link.toNode == name && link.toPort == input.name {
                    // Kind mismatches are reported after this loop: a link with an event side does not order the
                    // nodes, so its producer's format may not be known yet here.
                    if outputKind(of: link, in: nodes) != input.kind { continue }
                    guard let format = nodes[link.fromNode]?.outputFormats[link.fromPort] else { continue }
                    let from = "\(link.fromNode).\(link.fromPort)", to = "\(name).\(input.name)"
                    if case .exact(let want) = input.requirement, let have = format.pcm, have != want {
                        diagnostics.append(
                            PipelineDiagnostic(
                                link.location,
                                "\(from) is \(format) but \(to) needs \(want): insert a Resample node",
                                hint:
                                    "- \(link.fromNode) -> resample -> \(to) with 'resample: {type: Resample, rate: \(want.sampleRate), channels: \(want.channels)}'"
                            ))
                        continue
                    }
                    if let (earlier, earlierLink) = first, earlier != format {
                        diagnostics.append(
                            PipelineDiagnostic(
                                link.location,
                                "\(to) gets \(earlier) from \(earlierLink.fromNode) but \(format) from \(link.fromNode): insert a Resample node so they match",
                                hint:
                                    "- \(link.fromNode) -> resample -> \(to) with 'resample: {type: Resample, rate: \(earlier.pcm?.sampleRate ?? 48_000), channels: \(earlier.pcm?.channels ?? 2)}'"
                            ))
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
                    } else if output.kind.carriesPCM
                        || links.contains(where: { $0.fromNode == name && $0.fromPort == output.name }),
                        !links.contains(where: { $0.toNode == name && $0.toPort == input }),
                        node.layout.inputs.first(where: { $0.name == input })?.isRequired != true
                    {
                        // (An unlinked required input has been reported already.)
                        diagnostics.append(
                            PipelineDiagnostic(
                                node.location,
                                "the format of \(name).\(output.name) follows \(name).\(input), which is not linked",
                                hint: "link \(name).\(input)"))
                    }
                }
            }
            nodes[name] = node
        }
        for link in links {
            guard let kind = outputKind(of: link, in: nodes), kind != link.kind else { continue }
            let format = nodes[link.fromNode]?.outputFormats[link.fromPort] ?? MediaFormat(kind)
            let converters = registry.converters(from: kind, to: link.kind)
            diagnostics.append(
                PipelineDiagnostic(
                    link.location,
                    "\(link.fromNode).\(link.fromPort) is \(format) but \(link.toNode).\(link.toPort) needs \(link.kind.displayName)",
                    hint: converters.isEmpty
                        ? "no node type converts \(kind.displayName) to \(link.kind.displayName)"
                        : "insert \(withArticle(converters.joined(separator: " or "))) node"))
        }
    }

    private func outputKind(of link: ResolvedLink, in nodes: [String: ValidatedNode]) -> MediaKind? {
        nodes[link.fromNode]?.layout.outputs.first { $0.name == link.fromPort }?.kind
    }

    private func resolvePace(_ spec: PipelineSpec, nodes: [ValidatedNode], diagnostics: inout [PipelineDiagnostic])
        -> Bool
    {
        let prefs = nodes.map { ($0, $0.type.pacing($0.params)) }
        let realtime = prefs.filter { if case .realtime = $0.1 { return true } else { return false } }.map(\.0.name)
        let fast = prefs.contains { if case .fast = $0.1 { return true } else { return false } }
        switch spec.session.pace?.value {
        case "realtime": return false
        case "fast":
            if !realtime.isEmpty {
                diagnostics.append(
                    PipelineDiagnostic(
                        spec.session.pace!.location,
                        "session pace 'fast' is impossible: \(realtime.joined(separator: ", ")) \(realtime.count == 1 ? "needs" : "need") real time",
                        hint: "use pace: realtime or auto"))
            }
            return true
        default:
            return realtime.isEmpty && fast
        }
    }
}

/// "a Resample", "an OpusOggEncode".
func withArticle(_ word: String) -> String {
    guard let first = word.first else { return word }
    return ("AEIOU".contains(first) ? "an " : "a ") + word
}
