/// A position in a pipeline file (1-based line and column).
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }

    /// The same line, `offset` columns to the right.
    public func advanced(by offset: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column + offset)
    }
}

/// One problem found in a pipeline file: where, what, and how to fix it. The hint is required, so no error can be
/// reported without one.
public struct PipelineDiagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    /// What to do about it (printed on its own `hint:` line).
    public var hint: String

    public init(_ location: SourceLocation, _ message: String, hint: String) {
        self.location = location
        self.message = message
        self.hint = hint
    }

    /// `file:line:column: error: message` and an indented `hint:` line — the form compilers use, so editors can jump
    /// to it.
    public var description: String { "\(location): error: \(message)\n    hint: \(hint)" }
}

/// All problems found in a pipeline, reported together.
public struct PipelineErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [PipelineDiagnostic]

    public init(_ diagnostics: [PipelineDiagnostic]) {
        self.diagnostics = diagnostics.sorted { $0.location < $1.location }
    }

    public var description: String {
        let body = diagnostics.map(\.description).joined(separator: "\n")
        let n = diagnostics.count
        return body + "\n\(n) error\(n == 1 ? "" : "s")"
    }
}

/// Suggests the closest known name for a misspelt one ("did you mean ...?").
public enum Spelling {
    /// The candidate within a small edit distance of `name`, if any.
    public static func suggestion(for name: String, among candidates: [String]) -> String? {
        let lower = name.lowercased()
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lower, candidate.lowercased())
            let limit = max(1, min(3, candidate.count / 3))
            if distance <= limit, best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        return best?.0
    }

    /// " Did you mean 'x'?" or "".
    public static func didYouMean(_ name: String, among candidates: [String]) -> String {
        guard let s = suggestion(for: name, among: candidates) else { return "" }
        return " Did you mean '\(s)'?"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
