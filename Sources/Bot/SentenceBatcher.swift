import Foundation

/// Groups the AI's sentences into chat messages so a chatty model stays within Discord's per-channel rate limits:
/// at most one message per `minimumInterval`, sentences that arrive in between are joined into the next one, and
/// a message never exceeds `maximumLength` characters. Pure: time is passed in (nanoseconds, `MonotonicClock`).
public struct SentenceBatcher: Sendable {
    public let minimumInterval: UInt64
    public let maximumLength: Int
    private var pending: [String] = []
    private var lastPost: UInt64?

    /// Discord caps a message at 2000 characters; stay below to leave room for the escaping of mentions.
    public init(minimumInterval: UInt64 = 1_200_000_000, maximumLength: Int = 1800) {
        self.minimumInterval = minimumInterval
        self.maximumLength = max(16, maximumLength)
    }

    public var isEmpty: Bool { pending.isEmpty }

    /// Queues a sentence (blank ones are dropped; an over-long one is cut at a word boundary into pieces).
    public mutating func add(_ sentence: String) {
        let text = sentence.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return }
        var rest = Substring(text)
        while rest.count > maximumLength {
            let window = rest.prefix(maximumLength)
            let cut = window.lastIndex(of: " ").map { rest.index(after: $0) } ?? window.endIndex
            pending.append(String(rest[..<cut]).trimmingCharacters(in: .whitespaces))
            rest = rest[cut...]
        }
        if !rest.isEmpty { pending.append(String(rest)) }
    }

    /// When the next message may go out, if something is waiting.
    public func nextDeadline() -> UInt64? {
        guard !pending.isEmpty else { return nil }
        guard let lastPost else { return 0 }
        return lastPost &+ minimumInterval
    }

    /// The message to post at `now`, if one is due: as many waiting sentences as fit, joined by spaces.
    public mutating func take(now: UInt64) -> String? {
        guard let deadline = nextDeadline(), now >= deadline else { return nil }
        var message = pending.removeFirst()
        while let next = pending.first, message.count + 1 + next.count <= maximumLength {
            message += " " + next
            pending.removeFirst()
        }
        lastPost = now
        return message
    }
}
