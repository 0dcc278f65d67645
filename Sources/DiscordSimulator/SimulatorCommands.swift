import Foundation

/// A registered application command as the simulator stored it (tests check what the client sent).
public struct SimulatedCommand: Sendable, Equatable {
    public struct Option: Sendable, Equatable {
        public var name: String
        public var type: Int
        public var required: Bool
        public var maxLength: Int?
        public var minLength: Int?
        public var choices: [String]
    }

    public var id: UInt64
    public var name: String
    public var options: [Option]
    /// `contexts` as registered (`nil` = absent).
    public var contexts: [Int]?
    /// `integration_types` as registered (`nil` = absent).
    public var integrationTypes: [Int]?
}

/// Bulk overwrite of application commands, checked against the limits `application-commands.mdx` documents;
/// a violation is a 400 "Invalid Form Body" (code 50035) naming the field, as Discord answers.
extension DiscordSimulator {
    func overwriteCommands(_ state: inout SimState, scope: String, body: Data) -> RESTResponse {
        guard let list = SimJSON.decodeArray(body) as? [[String: Any]] else {
            return Self.invalidForm("_root", "Must be an array of application commands.")
        }
        var stored: [[String: Any]] = []
        var parsed: [SimulatedCommand] = []
        for (index, var command) in list.enumerated() {
            let field = "\(index)"
            guard let name = command["name"] as? String, Self.isValidName(name) else {
                return Self.invalidForm("\(field).name", "Invalid application command name.")
            }
            guard let description = command["description"] as? String, (1...100).contains(description.count) else {
                return Self.invalidForm("\(field).description", "Must be between 1 and 100 in length.")
            }
            let contexts = command["contexts"] as? [Int]
            if Self.isPresent(command["contexts"]) {
                guard let contexts, contexts.allSatisfy({ (0...2).contains($0) }) else {
                    return Self.invalidForm("\(field).contexts", "Value is not a valid interaction context type.")
                }
            }
            let integrationTypes = command["integration_types"] as? [Int]
            if Self.isPresent(command["integration_types"]) {
                guard let integrationTypes, !integrationTypes.isEmpty,
                    integrationTypes.allSatisfy({ (0...1).contains($0) })
                else {
                    return Self.invalidForm(
                        "\(field).integration_types", "Value is not a valid application integration type.")
                }
            }
            var options: [SimulatedCommand.Option] = []
            let rawOptions = command["options"] as? [[String: Any]] ?? []
            guard rawOptions.count <= 25 else { return Self.invalidForm("\(field).options", "Must be 25 or fewer.") }
            var sawOptional = false
            for (position, raw) in rawOptions.enumerated() {
                let path = "\(field).options.\(position)"
                switch Self.option(raw, path: path) {
                case let .failure(failure):
                    return failure.response
                case let .success(option):
                    if option.required && sawOptional {
                        return Self.invalidForm(
                            "\(path).required", "Required options must be placed before non-required options.")
                    }
                    sawOptional = sawOptional || !option.required
                    options.append(option)
                }
            }
            let id = state.ids.next()
            command["id"] = String(id)
            command["application_id"] = String(state.applicationID)
            command["version"] = "1"
            if scope != "global" { command["guild_id"] = scope }
            stored.append(command)
            parsed.append(
                SimulatedCommand(
                    id: id, name: name, options: options, contexts: contexts, integrationTypes: integrationTypes))
        }
        guard Set(parsed.map(\.name)).count == parsed.count else {
            return Self.invalidForm("_root", "Application command names must be unique.")
        }
        state.commands[scope] = stored
        state.commandDefinitions[scope] = parsed
        return RESTResponse(status: 200, body: SimJSON.encode(stored))
    }

    private static func option(_ raw: [String: Any], path: String) -> Result<SimulatedCommand.Option, RESTFailure> {
        guard let name = raw["name"] as? String, isValidName(name) else {
            return .failure(.init(invalidForm("\(path).name", "Invalid application command option name.")))
        }
        guard let description = raw["description"] as? String, (1...100).contains(description.count) else {
            return .failure(.init(invalidForm("\(path).description", "Must be between 1 and 100 in length.")))
        }
        guard let type = raw["type"] as? Int, (1...11).contains(type) else {
            return .failure(.init(invalidForm("\(path).type", "Value is not a valid option type.")))
        }
        let maxLength = raw["max_length"] as? Int
        let minLength = raw["min_length"] as? Int
        if raw["max_length"] != nil || raw["min_length"] != nil {
            guard type == 3 else {
                return .failure(.init(invalidForm("\(path).max_length", "Only STRING options take a length.")))
            }
        }
        if raw["max_length"] != nil {
            guard let maxLength, (1...6000).contains(maxLength) else {
                return .failure(.init(invalidForm("\(path).max_length", "Must be between 1 and 6000.")))
            }
        }
        if raw["min_length"] != nil {
            guard let minLength, (0...6000).contains(minLength), minLength <= (maxLength ?? 6000) else {
                return .failure(.init(invalidForm("\(path).min_length", "Must be between 0 and max_length.")))
            }
        }
        let choices = (raw["choices"] as? [[String: Any]] ?? []).compactMap { $0["value"].map { "\($0)" } }
        guard choices.count <= 25 else {
            return .failure(.init(invalidForm("\(path).choices", "Must be 25 or fewer.")))
        }
        return .success(
            .init(
                name: name, type: type, required: raw["required"] as? Bool ?? false, maxLength: maxLength,
                minLength: minLength, choices: choices))
    }

    /// A field that is there and not JSON `null`.
    private static func isPresent(_ value: Any?) -> Bool { value != nil && !(value is NSNull) }

    /// CHAT_INPUT names: 1–32 characters, lowercase where a letter has a lowercase form, no spaces.
    private static func isValidName(_ name: String) -> Bool {
        (1...32).contains(name.count) && name == name.lowercased()
            && name.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" || $0 == "'"
            }
    }

    static func invalidForm(_ field: String, _ message: String) -> RESTResponse {
        RESTResponse(
            status: 400,
            body: SimJSON.encode(
                [
                    "message": "Invalid Form Body", "code": 50035,
                    "errors": [field: ["_errors": [["code": "INVALID_FORM_BODY", "message": message]]]],
                ] as [String: Any]))
    }

    /// A 400 carried through `Result` (RESTResponse itself is not an Error).
    struct RESTFailure: Error {
        var response: RESTResponse
        init(_ response: RESTResponse) { self.response = response }
    }
}
