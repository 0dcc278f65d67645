import Foundation
import PersonaPlex

/// The voices a user may choose: the `.pt` files in `VOICE_PROMPT_DIR` when it is set, else PersonaPlex's 18 stock
/// voices. Names are matched without regard to case and with `.pt` optional; anything that is not one of the
/// names (a path, a typo) is refused with the closest valid names.
public struct VoiceCatalog: Sendable, Equatable {
    /// Canonical file names (`NATF0.pt`), sorted.
    public let voices: [String]
    /// The folder they were listed from, if any.
    public let directory: String?

    /// The longest name looked at; longer input is refused before any comparison.
    public static let maximumNameLength = 64

    public init(voices: [String] = PersonaPlexVoices.stock, directory: String? = nil) {
        self.voices = voices.sorted()
        self.directory = directory
    }

    /// Lists the `.pt` files in `directory` (hidden files ignored).
    public init(directory: String) throws {
        let files = try PersonaPlexVoices.available(voiceDirectory: directory)
        self.init(voices: files.filter { $0.lowercased().hasSuffix(".pt") }, directory: directory)
    }

    /// The canonical name for `input`, or why it is refused.
    public func resolve(_ input: String) -> Result<String, VoiceRefusal> {
        let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            return .failure(VoiceRefusal(input: trimmed, kind: .empty, suggestions: fallback))
        }
        guard trimmed.count <= Self.maximumNameLength else {
            return .failure(VoiceRefusal(input: trimmed, kind: .tooLong, suggestions: fallback))
        }
        // A voice is a file name, never a path: refuse separators and dot-dot before looking anything up.
        if trimmed.contains("/") || trimmed.contains("\\") || trimmed.contains("..") || trimmed.hasPrefix(".") {
            return .failure(VoiceRefusal(input: trimmed, kind: .notAName, suggestions: fallback))
        }
        let wanted = PersonaPlexVoices.normalised(trimmed)
        if let match = voices.first(where: { $0.caseInsensitiveCompare(wanted) == .orderedSame }) {
            return .success(match)
        }
        let close = PersonaPlexVoices.closeMatches(to: wanted, in: voices)
        return .failure(VoiceRefusal(input: trimmed, kind: .unknown, suggestions: close.isEmpty ? fallback : close))
    }

    /// The voices grouped as the PersonaPlex UI shows them; files that fit no group come last as "Other".
    public var groups: [(title: String, voices: [String])] {
        let titled: [(String, String)] = [
            ("NATF", "Natural Female"), ("NATM", "Natural Male"), ("VARF", "Varied Female"), ("VARM", "Varied Male"),
        ]
        var result: [(title: String, voices: [String])] = []
        var placed = Set<String>()
        for (prefix, title) in titled {
            let members = voices.filter { $0.uppercased().hasPrefix(prefix) }
            placed.formUnion(members)
            if !members.isEmpty { result.append((title, members)) }
        }
        let others = voices.filter { !placed.contains($0) }
        if !others.isEmpty { result.append(("Other", others)) }
        return result
    }

    /// Something to suggest when nothing is close: the first voice of each group.
    private var fallback: [String] { Array(groups.compactMap { $0.voices.first }.prefix(4)) }
}

/// Why a voice name was refused, with the names to try instead.
public struct VoiceRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case empty, tooLong, notAName, unknown }
    /// What the user typed (trimmed). Quote it only through `ChatText.quoted`.
    public var input: String
    public var kind: Kind
    public var suggestions: [String]

    public var description: String {
        let names = suggestions.map(VoiceName.display).joined(separator: ", ")
        let tryThese = suggestions.isEmpty ? "" : " Closest valid names: \(names)."
        switch kind {
        case .empty:
            return "Name a voice, for example NATF0." + tryThese
        case .tooLong:
            return "That is not a voice name (voice names are short, like NATF0)." + tryThese
        case .notAName:
            return "\(ChatText.quoted(input)) is not a voice name: a voice is a name like NATF0, not a path." + tryThese
        case .unknown:
            return "There is no voice called \(ChatText.quoted(input))." + tryThese
        }
    }
}

/// How voice names are shown to users: without the `.pt` extension.
public enum VoiceName {
    public static func display(_ file: String) -> String {
        file.lowercased().hasSuffix(".pt") ? String(file.dropLast(3)) : file
    }
}
