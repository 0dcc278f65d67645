import Foundation

/// Making text safe to post. The transport already sends `allowed_mentions: {"parse": []}`, so nothing pings;
/// on top of that, text that came from a user or the model is escaped so a mention never even renders as one
/// (`@everyone`, `<@123>`, `<@&456>` all get a zero-width space after the `@`).
public enum ChatText {
    /// Zero-width space: invisible, but breaks the mention syntax.
    static let breaker = "\u{200B}"

    /// `text` with every `@` followed by a zero-width space.
    public static func escapingMentions(_ text: String) -> String {
        text.replacingOccurrences(of: "@", with: "@" + breaker)
    }

    /// A user's name for a status line: mentions broken, Markdown characters escaped, at most 48 characters.
    public static func name(_ raw: String) -> String {
        let flat = raw.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        let short = flat.count > 48 ? String(flat.prefix(47)) + "…" : flat
        var out = ""
        for character in short {
            if "\\*_~`|>[]()#:".contains(character) { out.append("\\") }
            out.append(character)
        }
        return escapingMentions(out)
    }

    /// User input echoed back inside an inline code span (no Markdown, no mentions), shortened to `limit`.
    public static func quoted(_ raw: String, limit: Int = 80) -> String {
        let flat = raw.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "`", with: "'")
        let short = flat.count > limit ? String(flat.prefix(limit - 1)) + "…" : flat
        return "`" + escapingMentions(short) + "`"
    }

    /// A block of user text (a prompt) shown back in full: a block quote, mentions broken, code fences defused.
    public static func block(_ raw: String) -> String {
        let safe = escapingMentions(raw.replacingOccurrences(of: "```", with: "'''"))
        return safe.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n")
    }

    /// A duration in words: `45 s`, `3 min 12 s`, `1 h 5 min`.
    public static func duration(seconds: Double) -> String {
        let total = max(0, Int(seconds.rounded()))
        let hours = total / 3600, minutes = (total % 3600) / 60, secs = total % 60
        if hours > 0 { return minutes > 0 ? "\(hours) h \(minutes) min" : "\(hours) h" }
        if minutes > 0 { return secs > 0 ? "\(minutes) min \(secs) s" : "\(minutes) min" }
        return "\(secs) s"
    }
}
