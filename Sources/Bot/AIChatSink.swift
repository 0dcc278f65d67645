import Discord
import Logging
import Realtime

/// Where the AI's sentences go during a session: the session's text chat, batched by `SentenceBatcher`, every
/// sentence escaped so model text can never mention anyone (on top of the transport's `allowed_mentions`).
/// The audio graph (pipeline issue) feeds it from TextRelay.
public actor AIChatSink {
    private let transport: any BotTransport
    private let channelID: Snowflake
    private let clock: any MonotonicClock
    private let logger: Logger
    private var batcher: SentenceBatcher
    private var flushing = false

    public init(
        transport: any BotTransport, channelID: Snowflake, batcher: SentenceBatcher = SentenceBatcher(),
        clock: any MonotonicClock = SystemClock.shared, logger: Logger
    ) {
        self.transport = transport
        self.channelID = channelID
        self.batcher = batcher
        self.clock = clock
        self.logger = logger
    }

    /// Queues one sentence; it is posted when the rate allows. While a flush is running (another caller is pacing
    /// the messages) this returns at once; otherwise this caller does the pacing, so a caller that must never wait
    /// (the tick thread's hand-off) calls it from its own task.
    public func post(_ sentence: String) async {
        batcher.add(ChatText.escapingMentions(sentence))
        await flush()
    }

    /// Posts everything that is due, waiting between messages as the rate requires; returns when nothing waits.
    public func flush() async {
        guard !flushing else { return }  // one flusher at a time keeps the order
        flushing = true
        defer { flushing = false }
        while let deadline = batcher.nextDeadline() {
            let now = clock.nowNanoseconds()
            if deadline > now {
                try? await Task.sleep(for: .nanoseconds(Int64(min(deadline - now, 10_000_000_000))))
                if Task.isCancelled { return }
                continue
            }
            guard let message = batcher.take(now: now) else { continue }
            do {
                try await transport.send(message, to: channelID)
            } catch {
                logger.warning(
                    "posting the AI's text failed",
                    metadata: [
                        "channel": "\(channelID)",
                        "error": "\(error)",
                    ])
            }
        }
    }
}
