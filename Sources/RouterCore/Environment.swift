import Foundation

/// Variables for `${VAR}` / `${VAR:-default}` interpolation: the process environment over a `.env` file.
public struct PipelineEnvironment: Sendable {
    public var variables: [String: String]
    /// The values of `${session.NAME}` references: set when a host (the bot) starts a session; nil while a file is
    /// only checked, when each reference reads its documented example (`SessionValues.examples`).
    public var session: SessionValues?

    public init(_ variables: [String: String], session: SessionValues? = nil) {
        self.variables = variables
        self.session = session
    }

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
            if body.hasPrefix(SessionValues.prefix) {
                switch sessionValue(String(body.dropFirst(SessionValues.prefix.count))) {
                case .success(let value): out += value
                case .failure(let problem):
                    return .failure(InterpolationProblem(offset: i, message: problem.message, hint: problem.hint))
                }
                i = close + 1
                continue
            }
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

extension PipelineEnvironment {
    /// `${session.NAME}`: the session's value, or the documented example while the file is only checked.
    fileprivate func sessionValue(_ name: String) -> Result<String, InterpolationProblem> {
        guard let example = SessionValues.examples[name] else {
            return .failure(
                InterpolationProblem(
                    offset: 0,
                    message: "'session.\(name)' is not a session value."
                        + Spelling.didYouMean("session.\(name)", among: SessionValues.names.map { "session.\($0)" }),
                    hint: "session values: " + SessionValues.names.map { "session.\($0)" }.joined(separator: ", ")))
        }
        guard let session else { return .success(example) }
        return .success(session.values[name] ?? "")
    }
}

/// Values known only when a session starts, read in pipeline files as `${session.NAME}`: who started it, where,
/// with which prompt, voice and backend. `router check` validates a file with each name's example value; the bot
/// validates it again with the real values before it joins voice.
public struct SessionValues: Sendable, Equatable {
    static let prefix = "session."

    /// Every name, with the example used when a file is checked without a session (and its meaning, for docs).
    public static let documented: [(name: String, example: String, meaning: String)] = [
        ("id", "s1", "the session's identifier in logs (s1, s2, ...)"),
        ("guild_id", "100000000000000001", "the Discord server's id"),
        ("voice_channel_id", "100000000000000002", "the voice channel bridged"),
        ("text_channel_id", "100000000000000003", "where status messages and the AI's sentences go"),
        ("user_id", "100000000000000004", "who started the session (their settings apply)"),
        ("user_name", "someone", "their display name"),
        ("text_prompt", "You are a helpful assistant.", "the starter's !prompt (or the default prompt)"),
        ("voice", "NATF0.pt", "the starter's !voice (a PersonaPlex voice prompt file)"),
        ("backend_url", "ws://localhost:8998/api/chat", "the PersonaPlex server picked from PERSONAPLEX_URL"),
    ]
    public static let names = documented.map(\.name)
    static let examples = Dictionary(uniqueKeysWithValues: documented.map { ($0.name, $0.example) })

    /// Values by name (`text_prompt`, not `session.text_prompt`).
    public let values: [String: String]

    public init(
        id: String, guildID: String, voiceChannelID: String, textChannelID: String, userID: String,
        userName: String, textPrompt: String, voice: String, backendURL: String
    ) {
        values = [
            "id": id, "guild_id": guildID, "voice_channel_id": voiceChannelID, "text_channel_id": textChannelID,
            "user_id": userID, "user_name": userName, "text_prompt": textPrompt, "voice": voice,
            "backend_url": backendURL,
        ]
    }
}

/// A `${...}` reference that could not be expanded, with its offset in the scalar.
public struct InterpolationProblem: Error, Sendable {
    public var offset: Int
    public var message: String
    public var hint: String
}
