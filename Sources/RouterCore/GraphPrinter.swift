/// Renders a validated pipeline as text: an ASCII table for terminals, Graphviz DOT, or a Mermaid flowchart.
public enum GraphPrinter {
    public enum Format: String, CaseIterable, Sendable {
        case ascii, dot, mermaid
    }

    public static func render(_ pipeline: ValidatedPipeline, as format: Format) -> String {
        switch format {
        case .ascii: return ascii(pipeline)
        case .dot: return dot(pipeline)
        case .mermaid: return mermaid(pipeline)
        }
    }

    static func formatOf(_ link: ResolvedLink, in pipeline: ValidatedPipeline) -> String {
        pipeline.node(link.fromNode)?.outputFormats[link.fromPort]?.description ?? link.kind.displayName
    }

    /// One line per output port in data-path order: `node (Type) .port ─▶ targets  [format]`.
    static func ascii(_ pipeline: ValidatedPipeline) -> String {
        let title = pipeline.spec.name ?? pipeline.spec.file
        var lines = [
            "\(title): \(pipeline.nodes.count) nodes, \(pipeline.links.count) links, \(pipeline.runsFast ? "fast" : "real-time") pace"
        ]
        let nameWidth = pipeline.nodes.map { $0.name.count + $0.type.typeName.count + 3 }.max() ?? 0
        for node in pipeline.nodes {
            let head = "\(node.name) (\(node.type.typeName))"
            let pad = String(repeating: " ", count: max(0, nameWidth - head.count))
            let outgoing = Dictionary(grouping: pipeline.links.filter { $0.fromNode == node.name }, by: \.fromPort)
            if outgoing.isEmpty {
                // Only a node without outputs is a sink; one whose outputs are all unlinked says so.
                lines.append("  \(head)\(pad)   " + (node.layout.outputs.isEmpty ? "(sink)" : "(outputs not linked)"))
                continue
            }
            for output in node.layout.outputs {
                guard let links = outgoing[output.name] else { continue }
                let targets = links.map { "\($0.toNode).\($0.toPort)" }.joined(separator: ", ")
                let fmt = formatOf(links[0], in: pipeline)
                let arrow = output.kind == .event ? "┄▶" : "─▶"
                lines.append("  \(head)\(pad)  .\(output.name) \(arrow) \(targets)   [\(fmt)]")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func dot(_ pipeline: ValidatedPipeline) -> String {
        var lines = [
            "digraph \"\(escape(pipeline.spec.name ?? "pipeline"))\" {", "  rankdir=LR;",
            "  node [shape=box, style=rounded];",
        ]
        for node in pipeline.nodes {
            lines.append("  \"\(node.name)\" [label=\"\(node.name)\\n\(node.type.typeName)\"];")
        }
        for link in pipeline.links {
            let style = link.kind == .event ? ", style=dashed" : ""
            lines.append(
                "  \"\(link.fromNode)\" -> \"\(link.toNode)\" [label=\"\(link.fromPort)→\(link.toPort)\\n\(escape(formatOf(link, in: pipeline)))\"\(style)];"
            )
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    static func mermaid(_ pipeline: ValidatedPipeline) -> String {
        var lines = ["flowchart LR"]
        // Mermaid ids cannot contain '-': use the name with '_', made unique when `a-b` and `a_b` would collide.
        var ids: [String: String] = [:]
        var used = Set<String>()
        for (index, node) in pipeline.nodes.enumerated() {
            var candidate = node.name.replacingAll("-", with: "_")
            if used.contains(candidate) { candidate += "_\(index)" }
            used.insert(candidate)
            ids[node.name] = candidate
        }
        func id(_ name: String) -> String { ids[name] ?? name }
        for node in pipeline.nodes {
            lines.append("  \(id(node.name))[\"\(node.name)<br/>\(node.type.typeName)\"]")
        }
        for link in pipeline.links {
            let arrow = link.kind == .event ? "-.->" : "-->"
            lines.append(
                "  \(id(link.fromNode)) \(arrow)|\"\(link.fromPort)→\(link.toPort): \(formatOf(link, in: pipeline))\"| \(id(link.toNode))"
            )
        }
        return lines.joined(separator: "\n")
    }

    static func escape(_ s: String) -> String { s.replacingAll("\"", with: "\\\"") }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
