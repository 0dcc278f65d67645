import Logging

/// Pairs the bot's own VOICE_STATE_UPDATE (session id, channel) with VOICE_SERVER_UPDATE (token, endpoint) per
/// guild, in either order, and hands complete pairs to the voice layer. A `null` endpoint means the voice server
/// went away: the voice layer is told, and the next update completes a new pair.
actor VoiceStateCollector {
    private struct Pending {
        var sessionID: String?
        var channelID: Snowflake?
        var token: String?
        var endpoint: String?
        /// Set by op 4 join/move: both updates must arrive anew before the pair is handed over.
        var awaitingBoth = false
        var stateFresh = false
        var serverFresh = false
    }

    private enum Waiter {
        case join(Snowflake, CheckedContinuation<Void, any Error>)
        case leave(CheckedContinuation<Void, any Error>)
    }

    private var pending: [Snowflake: Pending] = [:]
    private var waiters: [Snowflake: Waiter] = [:]
    private var handler: (any VoiceServerUpdates)?
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func setHandler(_ handler: (any VoiceServerUpdates)?) { self.handler = handler }

    /// op 4 with a channel was sent: wait for both updates.
    func expectJoin(guildID: Snowflake) {
        var entry = pending[guildID] ?? Pending()
        entry.awaitingBoth = true
        entry.stateFresh = false
        entry.serverFresh = false
        pending[guildID] = entry
    }

    /// Waits until the join (`channelID` set) or leave (`nil`) that op 4 asked for has happened.
    func waitForCompletion(guildID: Snowflake, channelID: Snowflake?) async throws {
        try await withTaskCancellationHandler {
            try await register(guildID: guildID, channelID: channelID)
        } onCancel: {
            Task { await self.cancelWaiter(guildID: guildID) }
        }
    }

    private func cancelWaiter(guildID: Snowflake) {
        switch waiters.removeValue(forKey: guildID) {
        case let .join(_, continuation)?, let .leave(continuation)?:
            continuation.resume(throwing: CancellationError())
        case nil:
            break
        }
    }

    private func register(guildID: Snowflake, channelID: Snowflake?) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            // Cancelled before registering: the cancellation handler may already have run.
            if Task.isCancelled {
                continuation.resume(throwing: CancellationError())
                return
            }
            if case let .join(_, previous)? = waiters[guildID] {
                previous.resume(throwing: CancellationError())
            } else if case let .leave(previous)? = waiters[guildID] {
                previous.resume(throwing: CancellationError())
            }
            if channelID == nil, pending[guildID]?.channelID == nil {
                continuation.resume()
                return
            }
            // The updates may have arrived before this waiter: the pair for this channel was already handed over.
            if let channelID, let entry = pending[guildID], !entry.awaitingBoth, entry.channelID == channelID,
                entry.endpoint != nil
            {
                continuation.resume()
                return
            }
            waiters[guildID] = channelID.map { .join($0, continuation) } ?? .leave(continuation)
        }
    }

    /// The wait ran out: forget that a pair was expected (a late pair is still handed over).
    func timedOut(guildID: Snowflake) {
        pending[guildID]?.awaitingBoth = false
        cancelWaiter(guildID: guildID)
    }

    /// The bot's own voice state changed.
    func ownVoiceState(_ state: VoiceState, userID: Snowflake) async {
        guard let guildID = state.guildId else { return }
        var entry = pending[guildID] ?? Pending()
        guard let channelID = state.channelId else {
            pending[guildID] = nil
            if case let .leave(continuation)? = waiters[guildID] {
                waiters[guildID] = nil
                continuation.resume()
            }
            logger.info("left voice", metadata: ["guild": "\(guildID)"])
            await handler?.voiceDisconnected(guildID: guildID, serverGone: false)
            return
        }
        let moved = entry.channelID != nil && entry.channelID != channelID
        if entry.sessionID != state.sessionId || entry.channelID != channelID || entry.awaitingBoth {
            entry.stateFresh = true
        }
        if moved && !entry.awaitingBoth {
            // Moved by someone else: a new voice server update (new token) follows.
            entry.awaitingBoth = true
            entry.serverFresh = false
        }
        entry.sessionID = state.sessionId
        entry.channelID = channelID
        pending[guildID] = entry
        await handOverIfComplete(guildID: guildID, userID: userID)
    }

    func voiceServer(_ update: VoiceServerUpdate, userID: Snowflake) async {
        var entry = pending[update.guildId] ?? Pending()
        guard let endpoint = update.endpoint, !endpoint.isEmpty else {
            entry.token = nil
            entry.endpoint = nil
            entry.serverFresh = false
            pending[update.guildId] = entry
            logger.info("voice server gone; waiting for a new one", metadata: ["guild": "\(update.guildId)"])
            await handler?.voiceDisconnected(guildID: update.guildId, serverGone: true)
            return
        }
        entry.token = update.token
        entry.endpoint = endpoint
        entry.serverFresh = true
        pending[update.guildId] = entry
        await handOverIfComplete(guildID: update.guildId, userID: userID)
    }

    private func handOverIfComplete(guildID: Snowflake, userID: Snowflake) async {
        guard var entry = pending[guildID], let sessionID = entry.sessionID, let channelID = entry.channelID,
            let token = entry.token, let endpoint = entry.endpoint, entry.serverFresh
        else { return }
        if entry.awaitingBoth && !entry.stateFresh { return }
        entry.awaitingBoth = false
        entry.stateFresh = false
        entry.serverFresh = false
        pending[guildID] = entry
        let info = VoiceServerInfo(
            guildID: guildID, channelID: channelID, userID: userID, sessionID: sessionID,
            token: token, endpoint: endpoint)
        logger.info(
            "voice server ready",
            metadata: [
                "guild": "\(guildID)", "channel": "\(channelID)",
                "endpoint": "\(endpoint)",
            ])
        // The voice layer gets the pair before the joiner resumes: `updateVoiceState` promises it has.
        await handler?.voiceServerReady(info)
        if case let .join(wanted, continuation)? = waiters[guildID], wanted == channelID {
            waiters[guildID] = nil
            continuation.resume()
        }
    }
}
