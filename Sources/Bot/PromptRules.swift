import Foundation
import PersonaPlex

/// What a text prompt must be: not blank, and at most PersonaPlex's limit (the web UI's cap, 1000 characters).
public enum PromptRules {
    public static var limit: Int { PersonaPlexConfiguration.textPromptLimit }

    /// The prompt with surrounding whitespace removed, or why it is refused.
    public static func check(_ text: String) -> Result<String, PromptRefusal> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .failure(.empty) }
        if trimmed.count > limit { return .failure(.tooLong(length: trimmed.count, limit: limit)) }
        return .success(trimmed)
    }
}

/// Why a prompt was refused.
public enum PromptRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(length: Int, limit: Int)

    public var description: String {
        switch self {
        case .empty:
            return "The prompt is empty: write what the AI should be, for example: You are a friendly pirate."
        case let .tooLong(length, limit):
            return "That prompt is \(length) characters long; the limit is \(limit) characters. Please shorten it."
        }
    }
}
