import Foundation

/// Voice prompt names and their validation.
public enum PersonaPlexVoices {
    /// The 18 voices shipped with PersonaPlex (`voices.tgz`).
    public static let stock: [String] =
        (0...3).map { "NATF\($0).pt" } + (0...3).map { "NATM\($0).pt" }
        + (0...4).map { "VARF\($0).pt" } + (0...4).map { "VARM\($0).pt" }

    /// Adds `.pt` to a bare name (`NATF0` → `NATF0.pt`); names with an extension are kept.
    public static func normalised(_ voice: String) -> String {
        let trimmed = voice.trimmingCharacters(in: .whitespaces)
        return trimmed.contains(".") ? trimmed : trimmed + ".pt"
    }

    /// The voices available: the files in `voiceDirectory` if given, else the stock list.
    public static func available(voiceDirectory: String?) throws -> [String] {
        guard let directory = voiceDirectory else { return stock }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { !$0.hasPrefix(".") }
                .sorted()
        } catch {
            throw PersonaPlexError.voiceDirectoryUnreadable(path: directory, reason: error.localizedDescription)
        }
    }

    /// Returns the normalised voice if it is available, else throws `.unknownVoice` with close matches.
    public static func validated(_ voice: String, voiceDirectory: String? = nil) throws -> String {
        let name = normalised(voice)
        let known = try available(voiceDirectory: voiceDirectory)
        if !name.contains("/"), known.contains(name) { return name }
        throw PersonaPlexError.unknownVoice(
            voice, suggestions: closeMatches(to: name, in: known),
            voiceDirectory: voiceDirectory)
    }

    /// Up to three names close to `name`: same name ignoring case, same prefix, or edit distance ≤ 2.
    public static func closeMatches(to name: String, in known: [String]) -> [String] {
        let wanted = stem(name).uppercased()
        guard !wanted.isEmpty else { return [] }
        let scored: [(String, Int)] = known.compactMap { candidate in
            let other = stem(candidate).uppercased()
            if other == wanted { return (candidate, 0) }
            if other.hasPrefix(wanted) || wanted.hasPrefix(other) { return (candidate, 1) }
            let distance = editDistance(Array(wanted.utf8), Array(other.utf8))
            return distance <= 2 ? (candidate, 1 + distance) : nil
        }
        return scored.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(3).map { $0.0 }
    }

    private static func stem(_ name: String) -> String {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        guard let dot = base.lastIndex(of: ".") else { return base }
        return String(base[..<dot])
    }

    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
