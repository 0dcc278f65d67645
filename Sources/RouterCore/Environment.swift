import Foundation

/// Variables for `${VAR}` / `${VAR:-default}` interpolation: the process environment over a `.env` file.
public struct PipelineEnvironment: Sendable {
    public var variables: [String: String]

    public init(_ variables: [String: String]) { self.variables = variables }

    /// The process environment, over the variables of `dotEnvPath` when that file exists.
    public static func load(dotEnvPath: String? = ".env") throws -> PipelineEnvironment {
        var vars: [String: String] = [:]
        if let path = dotEnvPath, FileManager.default.fileExists(atPath: path) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            vars = try parseDotEnv(text, file: path)
        }
        for (k, v) in ProcessInfo.processInfo.environment { vars[k] = v }
        return PipelineEnvironment(vars)
    }

    /// Parses `KEY=VALUE` lines (`export ` prefix, `#` comments and surrounding quotes allowed).
    public static func parseDotEnv(_ text: String, file: String) throws -> [String: String] {
        var vars: [String: String] = [:]
        // Split on any line break: "\r\n" is a single Character in Swift, so splitting on "\n" would miss it.
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "=") else {
                throw PipelineErrors([
                    PipelineDiagnostic(
                        SourceLocation(file: file, line: number + 1, column: 1),
                        "expected KEY=VALUE", hint: "comment the line out with #")
                ])
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            vars[key] = value
        }
        return vars
    }

    /// Replaces `${VAR}`, `${VAR:-default}` and `$$` in `text`. Problems are reported with their column offset.
    public func interpolate(_ text: String) -> Result<String, InterpolationProblem> {
        guard text.contains("$") else { return .success(text) }
        var out = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c == "$", i + 1 < chars.count else {
                out.append(c)
                i += 1
                continue
            }
            if chars[i + 1] == "$" {
                out.append("$")
                i += 2
                continue
            }
            guard chars[i + 1] == "{" else {
                out.append(c)
                i += 1
                continue
            }
            guard let close = chars[(i + 2)...].firstIndex(of: "}") else {
                return .failure(
                    InterpolationProblem(
                        offset: i, message: "unterminated '${' in '\(text)'",
                        hint: "close it with '}' or write '$$' for a literal '$'"))
            }
            let body = String(chars[(i + 2)..<close])
            var name = body, fallback: String?
            if let r = body.range(of: ":-") {
                name = String(body[..<r.lowerBound])
                fallback = String(body[r.upperBound...])
            }
            let validName =
                !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
                && !(name.first!.isNumber)
            guard validName else {
                return .failure(
                    InterpolationProblem(
                        offset: i, message: "'${\(body)}' is not a valid variable reference",
                        hint: "write ${NAME} or ${NAME:-default}"))
            }
            if let value = variables[name], !(value.isEmpty && fallback != nil) {
                out += value
            } else if let fallback {
                out += fallback
            } else {
                return .failure(
                    InterpolationProblem(
                        offset: i, message: "environment variable \(name) is not set",
                        hint: "set it (in the environment or .env), or give a default: ${\(name):-value}"))
            }
            i = close + 1
        }
        return .success(out)
    }
}

/// A `${...}` reference that could not be expanded, with its offset in the scalar.
public struct InterpolationProblem: Error, Sendable {
    public var offset: Int
    public var message: String
    public var hint: String
}
