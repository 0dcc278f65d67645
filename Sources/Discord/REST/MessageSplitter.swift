/// Splits text into Discord messages of at most `limit` characters (Unicode scalars, which is what Discord
/// counts), preferring paragraph, then sentence, then word boundaries; a single word longer than the limit is cut.
public enum MessageSplitter {
    public static let discordLimit = 2000

    public static func split(_ text: String, limit: Int = discordLimit) -> [String] {
        precondition(limit >= 16, "a message limit below 16 characters cannot hold a word")
        var chunks: [String] = []
        var rest = Substring(text)
        while rest.unicodeScalars.count > limit {
            let window = prefix(of: rest, scalars: limit)
            let cut = bestCut(in: window)
            let chunk = rest[..<cut].trimmingTrailingWhitespace()
            if !chunk.isEmpty { chunks.append(String(chunk)) }
            rest = rest[cut...].drop { $0.isWhitespace }
        }
        let last = rest.trimmingTrailingWhitespace()
        if !last.isEmpty { chunks.append(String(last)) }
        return chunks
    }

    /// The longest prefix of `text` with at most `scalars` Unicode scalars, on a Character boundary.
    private static func prefix(of text: Substring, scalars: Int) -> Substring {
        var count = 0
        var end = text.startIndex
        for index in text.indices {
            let size = text[index].unicodeScalars.count
            if count + size > scalars { break }
            count += size
            end = text.index(after: index)
        }
        return text[..<end]
    }

    /// Where to end a chunk within `window`: after a paragraph break, a sentence end, or a space — whichever is
    /// latest in the window's second half first; else the whole window.
    private static func bestCut(in window: Substring) -> Substring.Index {
        let half = window.index(window.startIndex, offsetBy: window.count / 2)
        var paragraph: Substring.Index?
        var sentence: Substring.Index?
        var word: Substring.Index?
        var previous: Character?
        for index in window.indices {
            let character = window[index]
            if character.isWhitespace {
                if character == "\n", previous == "\n" { paragraph = index }
                if let previous, ".!?…".contains(previous) || character.isNewline { sentence = index }
                word = index
            }
            previous = character
        }
        for candidate in [paragraph, sentence, word] {
            if let candidate, candidate > half { return candidate }
        }
        if let word, word > window.startIndex { return word }
        return window.endIndex
    }
}

extension Substring {
    fileprivate func trimmingTrailingWhitespace() -> Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)].isWhitespace { end = index(before: end) }
        return self[..<end]
    }
}
