import CYaml

/// A YAML node with its position. Unlike a dictionary, a mapping keeps every pair in file order, duplicate keys
/// included, so validation can report a duplicate where it is written and go on checking the rest of the file.
indirect enum YAMLNode {
    case scalar(YAMLScalar)
    case mapping([(key: YAMLNode, value: YAMLNode)], SourceLocation)
    case sequence([YAMLNode], SourceLocation)

    /// Where the node starts (its first character, or the opening bracket of a flow collection).
    var location: SourceLocation {
        switch self {
        case .scalar(let s): return s.location
        case .mapping(_, let l), .sequence(_, let l): return l
        }
    }

    /// The text of a scalar; nil for a mapping or sequence.
    var string: String? {
        if case .scalar(let s) = self { return s.string }
        return nil
    }
}

/// A scalar's text (quotes removed, escapes resolved) and how it was written.
struct YAMLScalar {
    var string: String
    /// Written in single or double quotes: its text starts one column after `location`.
    var isQuoted: Bool
    var location: SourceLocation
}

/// Builds `YAMLNode` trees from libyaml's event stream (the parser Yams bundles), keeping duplicate keys.
enum YAMLDocument {
    /// Deeper nesting than any pipeline needs is refused rather than risk the stack.
    static let maxDepth = 64

    /// The single document in `text`: nil for an empty file, or the first syntax problem found.
    static func parse(_ text: String, file: String) -> Result<YAMLNode?, PipelineDiagnostic> {
        let reader = YAMLEventReader(text, file: file)
        do {
            guard case .streamStart = try reader.next() else { return .success(nil) }
            guard case .documentStart = try reader.next() else { return .success(nil) }
            let root = try compose(try reader.next(), reader, depth: 0)
            _ = try reader.next()  // document end
            let after = try reader.next()
            if case .documentStart(let location) = after {
                throw PipelineDiagnostic(
                    location, "YAML syntax: a pipeline file holds one document, but another one starts here",
                    hint: "remove the '---' line and everything after it, or split the file")
            }
            return .success(root)
        } catch let diagnostic as PipelineDiagnostic {
            return .failure(diagnostic)
        } catch {
            return .failure(
                PipelineDiagnostic(
                    SourceLocation(file: file, line: 1, column: 1), "YAML error: \(error)",
                    hint: "check the file's YAML syntax"))
        }
    }

    private static func compose(_ event: YAMLEvent, _ reader: YAMLEventReader, depth: Int) throws -> YAMLNode {
        let node: YAMLNode
        let anchor: String?
        switch event {
        case .scalar(let scalar, let a):
            node = .scalar(scalar)
            anchor = a
        case .alias(let name, let location):
            guard let target = reader.anchors[name] else {
                throw PipelineDiagnostic(
                    location, "YAML syntax: '*\(name)' refers to no anchor '&\(name)' above it",
                    hint: "define '&\(name)' on a value before using '*\(name)'")
            }
            return target
        case .sequenceStart(let location, let a):
            guard depth < maxDepth else { throw tooDeep(location) }
            var items: [YAMLNode] = []
            while true {
                let next = try reader.next()
                if case .collectionEnd = next { break }
                items.append(try compose(next, reader, depth: depth + 1))
            }
            node = .sequence(items, location)
            anchor = a
        case .mappingStart(let location, let a):
            guard depth < maxDepth else { throw tooDeep(location) }
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            while true {
                let next = try reader.next()
                if case .collectionEnd = next { break }
                let key = try compose(next, reader, depth: depth + 1)
                pairs.append((key, try compose(try reader.next(), reader, depth: depth + 1)))
            }
            node = .mapping(pairs, location)
            anchor = a
        case .streamStart, .documentStart, .documentEnd, .streamEnd, .collectionEnd:
            // libyaml only emits these between nodes; reaching one here means the stream is not a document.
            throw PipelineDiagnostic(
                reader.location, "YAML syntax: unexpected end of the document",
                hint: "check indentation and ':' after keys")
        }
        if let anchor { reader.anchors[anchor] = node }
        return node
    }

    private static func tooDeep(_ location: SourceLocation) -> PipelineDiagnostic {
        PipelineDiagnostic(
            location, "YAML nesting deeper than \(maxDepth) levels",
            hint: "a pipeline needs only nodes, their parameters and links: flatten the structure")
    }
}

/// One libyaml event, copied out of the parser's buffers.
private enum YAMLEvent {
    case streamStart, streamEnd, documentEnd, collectionEnd
    case documentStart(SourceLocation)
    case scalar(YAMLScalar, anchor: String?)
    case alias(String, SourceLocation)
    case sequenceStart(SourceLocation, anchor: String?)
    case mappingStart(SourceLocation, anchor: String?)
}

/// A libyaml parser over a private copy of the text; syntax errors come out as diagnostics with the problem's position.
private final class YAMLEventReader {
    private var parser = yaml_parser_t()
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let file: String
    /// Anchored nodes seen so far, for aliases.
    var anchors: [String: YAMLNode] = [:]
    /// Where the last event started.
    private(set) var location: SourceLocation

    init(_ text: String, file: String) {
        self.file = file
        location = SourceLocation(file: file, line: 1, column: 1)
        let bytes = Array(text.utf8)
        input = .allocate(capacity: max(1, bytes.count))
        _ = input.initialize(from: bytes)
        yaml_parser_initialize(&parser)
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, UnsafePointer(input.baseAddress), bytes.count)
    }

    deinit {
        yaml_parser_delete(&parser)
        input.deallocate()
    }

    func next() throws -> YAMLEvent {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else { throw syntaxError() }
        defer { yaml_event_delete(&event) }
        location = SourceLocation(
            file: file, line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT: return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart(location)
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: return .collectionEnd
        case YAML_ALIAS_EVENT: return .alias(Self.text(event.data.alias.anchor) ?? "", location)
        case YAML_SEQUENCE_START_EVENT:
            return .sequenceStart(location, anchor: Self.text(event.data.sequence_start.anchor))
        case YAML_MAPPING_START_EVENT:
            return .mappingStart(location, anchor: Self.text(event.data.mapping_start.anchor))
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let value = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
            let quoted = s.style == YAML_SINGLE_QUOTED_SCALAR_STYLE || s.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE
            return .scalar(YAMLScalar(string: value, isQuoted: quoted, location: location), anchor: Self.text(s.anchor))
        default:
            throw PipelineDiagnostic(location, "YAML syntax: unexpected event", hint: "check the file's YAML syntax")
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<UInt8>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// The parser's error, in the words libyaml uses, at the position of the problem.
    private func syntaxError() -> PipelineDiagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        if parser.error == YAML_READER_ERROR {
            return PipelineDiagnostic(
                SourceLocation(file: file, line: 1, column: 1), "cannot read the file: \(problem)",
                hint: "pipeline files must be UTF-8 text")
        }
        var message = "YAML syntax: \(problem)"
        if let context = parser.context {
            message += " (\(String(cString: context)) at line \(parser.context_mark.line + 1))"
        }
        let at = SourceLocation(
            file: file, line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
        return PipelineDiagnostic(at, message, hint: "check indentation and ':' after keys; use spaces, not tabs")
    }
}
