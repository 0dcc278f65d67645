import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// The event-loop side of `PersonaPlexClient`: connecting, the `0x00` gate, receiving, closing. Every method here
/// runs on `eventLoop` (each asserts it) and moves the state machine only through `transition(to:)`.
extension PersonaPlexClient {
    func beginConnecting(requestTarget: String, tlsContext: NIOSSLContext?, promise: EventLoopPromise<Void>) {
        eventLoop.assertInEventLoop()
        guard current == .idle else {
            promise.fail(PersonaPlexError.cancelled)
            return
        }
        connectPromise = promise
        transition(to: .connecting)
        let endpoint = configuration.endpoint
        let timeout = configuration.handshakeTimeout
        handshakeTimer = eventLoop.scheduleTask(in: Self.timeAmount(timeout)) {
            if self.current == .connecting || self.current.awaitsHandshake {
                self.finish(.failed(.handshakeTimeout(seconds: timeout)))
            }
        }
        let upgrader = NIOWebSocketClientUpgrader(requestKey: webSocketKey, maxFrameSize: 1 << 20) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(
                    NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 256, maxAccumulatedFrameSize: 1 << 20))
                try sync.addHandler(PersonaPlexFrameHandler(client: self))
                self.didUpgrade()
            }
        }
        let initializer: PersonaPlexConnector.Initializer = { channel in
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                if let tlsContext {
                    try sync.addHandler(PersonaPlexTLS.makeHandler(context: tlsContext, host: endpoint.host))
                }
                let requestHandler = PersonaPlexUpgradeRequestHandler(
                    client: self, requestTarget: requestTarget, authority: endpoint.authority)
                // The completion handler runs on this channel's loop, where the handler lives.
                let removable = NIOLoopBound(requestHandler, eventLoop: channel.eventLoop)
                try sync.addHTTPClientHandlers(
                    leftOverBytesStrategy: .forwardBytes,
                    withClientUpgrade: (
                        upgraders: [upgrader],
                        completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(removable.value, promise: nil)
                        }
                    ))
                try sync.addHandler(requestHandler)
            }
        }
        let connecting = connector.connect(
            eventLoop, endpoint.host, endpoint.port,
            Self.timeAmount(configuration.connectTimeout), initializer)
        connecting.whenComplete { result in
            switch result {
            case let .success(channel):
                guard !self.current.isFinal else {
                    channel.close(promise: nil)
                    return
                }
                self.channel = channel
                channel.closeFuture.whenComplete { _ in self.channelBecameInactive() }
            case let .failure(error):
                self.finish(.failed(self.classifyConnectError(error)))
            }
        }
    }

    // MARK: Pipeline events

    func didUpgrade() {
        eventLoop.assertInEventLoop()
        guard current == .connecting else { return }
        tlsDone = true
        let id = ObjectIdentifier(self)
        let authority = configuration.endpoint.authority
        let lockHeld = PersonaPlexSessionRegistry.othersOpen(besides: id, authority: authority)
        PersonaPlexSessionRegistry.register(id, authority: authority)
        registered = true
        if lockHeld {
            // Another session of this process holds the server's single-session lock: we queue behind it, and the
            // prompts are processed only once it ends.
            transition(to: .waitingForServer(.heldByThisProcess))
            watchLockHolder(id: id, authority: authority)
        } else {
            transition(to: .upgraded)
            scheduleBusyNotice()
        }
    }

    /// While queued behind a session of this process, checks every 50 ms whether it ended; then "warming up".
    private func watchLockHolder(id: ObjectIdentifier, authority: String) {
        lockWatch = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { task in
            guard self.current == .waitingForServer(.heldByThisProcess) else { return task.cancel() }
            guard !PersonaPlexSessionRegistry.othersOpen(besides: id, authority: authority) else { return }
            task.cancel()
            self.transition(to: .upgraded)
            self.scheduleBusyNotice()
        }
    }

    /// Silence after the upgrade is either a slow warm-up or another client holding the lock; after
    /// `waitingNotice` seconds without `0x00` the state names both possibilities.
    private func scheduleBusyNotice() {
        waitingTimer = eventLoop.scheduleTask(in: Self.timeAmount(configuration.waitingNotice)) {
            guard self.current == .upgraded else { return }
            self.transition(to: .waitingForServer(.serverBusyOrWarmingUp))
        }
    }

    func didReceiveBinary(_ payload: inout ByteBuffer, receivedAt: UInt64, channel: Channel) {
        eventLoop.assertInEventLoop()
        lastReceivedAt = receivedAt
        guard let kind = payload.readInteger(as: UInt8.self) else {
            PersonaPlexCounterCells.bump(counterCells.ignoredMessages)
            return
        }
        switch (current, kind) {
        case (.upgraded, PersonaPlexProtocol.Kind.handshake), (.waitingForServer, PersonaPlexProtocol.Kind.handshake):
            if payload.readableBytes > 0 { PersonaPlexCounterCells.bump(counterCells.longHandshakes) }
            becomeLive(channel: channel)
        case (.live, PersonaPlexProtocol.Kind.handshake):
            PersonaPlexCounterCells.bump(counterCells.repeatedHandshakes)
        case (.live, PersonaPlexProtocol.Kind.audio), (.live, PersonaPlexProtocol.Kind.text):
            let messageKind: PersonaPlexMessage.Kind = kind == PersonaPlexProtocol.Kind.audio ? .audio : .text
            if let onMessage {
                let message = PersonaPlexMessage(
                    kind: messageKind, payload: Array(payload.readableBytesView),
                    receivedAtNanos: receivedAt)
                if messageKind == .audio {
                    PersonaPlexCounterCells.bump(counterCells.audioReceived)
                } else {
                    PersonaPlexCounterCells.bump(counterCells.textReceived)
                }
                onMessage(message)
            } else {
                payload.withUnsafeReadableBytes { inbox.append(kind: messageKind, payload: $0, receivedAt: receivedAt) }
            }
        default:
            PersonaPlexCounterCells.bump(counterCells.ignoredMessages)
        }
    }

    func didReceiveIgnoredFrame() {
        eventLoop.assertInEventLoop()
        PersonaPlexCounterCells.bump(counterCells.ignoredMessages)
    }

    func didReceiveCloseFrame(code: Int?, channel: Channel) {
        eventLoop.assertInEventLoop()
        serverCloseCode = code
        if current == .closing {
            channel.close(promise: nil)
            return
        }
        // Server-initiated close: echo it, then drop the socket; `channelBecameInactive` classifies it.
        var data = channel.allocator.buffer(capacity: 2)
        data.writeInteger(UInt16(code ?? 1000))
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
    }

    func tlsHandshakeCompleted() {
        eventLoop.assertInEventLoop()
        tlsDone = true
    }

    func upgradeWasRefused(status: Int, reason: String) {
        eventLoop.assertInEventLoop()
        let detail = upgradeError.map { "\(reason) (\($0))" } ?? reason
        finish(.failed(.upgradeRejected(status: status, reason: detail)))
    }

    func pipelineError(_ error: Error) {
        eventLoop.assertInEventLoop()
        if error is NIOHTTPClientUpgradeError {
            upgradeError = "\(error)"
            return
        }
        if configuration.endpoint.secure, !tlsDone, PersonaPlexTLS.isHandshakeError(error) {
            finish(
                .failed(.tlsFailure(reason: "\(error)", plaintextReply: PersonaPlexTLS.looksLikePlaintextReply(error))))
        } else if current == .connecting {
            let endpoint = configuration.endpoint
            finish(.failed(.connectionFailed(host: endpoint.host, port: endpoint.port, reason: "\(error)")))
        } else {
            logger?(.debug, "PersonaPlex: channel error \(error)")
        }
    }

    func channelBecameInactive() {
        eventLoop.assertInEventLoop()
        let endpoint = configuration.endpoint
        switch current {
        case .idle, .closed, .failed:
            return
        case .connecting:
            finish(
                .failed(
                    .connectionFailed(
                        host: endpoint.host, port: endpoint.port,
                        reason: "the connection closed before the WebSocket upgrade")))
        case .upgraded, .waitingForServer:
            finish(.failed(.closedDuringWarmUp(closeCode: serverCloseCode)))
        case .live:
            finish(.failed(.serverClosedSession(closeCode: serverCloseCode)))
        case .closing:
            finish(.closed)
        }
    }

    // MARK: Transitions

    func becomeLive(channel: Channel) {
        eventLoop.assertInEventLoop()
        handshakeTimer?.cancel()
        waitingTimer?.cancel()
        lockWatch?.cancel()
        // The holder's end and our 0x00 can race the 50 ms watch: the order stays waiting -> warming up -> live.
        if current == .waitingForServer(.heldByThisProcess) { transition(to: .upgraded) }
        rawContext = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        transition(to: .live)
        connectPromise?.succeed(())
        connectPromise = nil
        startSilenceWatch()
    }

    /// Fails the session when audio was written `silenceTimeout` after the last server message.
    func startSilenceWatch() {
        eventLoop.assertInEventLoop()
        let timeout = configuration.silenceTimeout
        guard timeout > 0 else { return }
        let limit = UInt64(timeout * 1_000_000_000)
        let period = Self.timeAmount(min(1, timeout / 4))
        silenceWatch = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            guard self.current == .live, self.lastWrittenAt > self.lastReceivedAt &+ limit else { return }
            self.finish(.failed(.serverSilent(seconds: timeout)))
        }
    }

    func beginClosing(done: EventLoopPromise<Void>) {
        eventLoop.assertInEventLoop()
        endPromise.futureResult.cascade(to: done)
        switch current {
        case .closed, .failed, .closing:
            return
        case .idle:
            finish(.closed)
        case .connecting:
            transition(to: .closing)
            if let channel { channel.close(promise: nil) } else { finish(.closed) }
        case .upgraded, .waitingForServer, .live:
            let wasLive = current == .live
            // `closing` shuts the send gate; pages accepted before it go out before the close frame, later ones
            // are refused (and a send that raced the gate is dropped and counted by the next drain).
            transition(to: .closing)
            if wasLive { writeOutbox() }
            guard let channel else {
                finish(.closed)
                return
            }
            var data = channel.allocator.buffer(capacity: 2)
            data.writeInteger(UInt16(1000))
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
            let written = channel.writeAndFlush(frame)
            if wasLive {
                // A live server answers with its own close frame; don't wait for it forever.
                closeTimer = eventLoop.scheduleTask(in: Self.timeAmount(configuration.closeGracePeriod)) {
                    channel.close(promise: nil)
                }
            } else {
                // Before 0x00 the server is not reading: the close frame is a courtesy, the FIN is what counts.
                written.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    func finish(_ final: PersonaPlexState) {
        eventLoop.assertInEventLoop()
        guard !current.isFinal else { return }
        handshakeTimer?.cancel()
        waitingTimer?.cancel()
        lockWatch?.cancel()
        closeTimer?.cancel()
        silenceWatch?.cancel()
        endSending()
        if registered {
            PersonaPlexSessionRegistry.unregister(ObjectIdentifier(self), authority: configuration.endpoint.authority)
            registered = false
        }
        transition(to: final)
        if let pending = connectPromise {
            connectPromise = nil
            if case let .failed(error) = final { pending.fail(error) } else { pending.fail(PersonaPlexError.cancelled) }
        }
        if let channel, channel.isActive { channel.close(promise: nil) }
        endCompleted = true
        endPromise.succeed(())
    }

    // MARK: Helpers

    func classifyConnectError(_ error: Error) -> PersonaPlexError {
        let endpoint = configuration.endpoint
        if let error = error as? PersonaPlexError { return error }
        if Self.isRefused(error) { return .connectionRefused(host: endpoint.host, port: endpoint.port) }
        if let connection = error as? NIOConnectionError {
            if connection.connectionErrors.contains(where: { Self.isRefused($0.error) }) {
                return .connectionRefused(host: endpoint.host, port: endpoint.port)
            }
            return .connectionFailed(host: endpoint.host, port: endpoint.port, reason: connection.description)
        }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError {
            return .connectionFailed(
                host: endpoint.host, port: endpoint.port,
                reason: "no answer within \(configuration.connectTimeout) s")
        }
        return .connectionFailed(host: endpoint.host, port: endpoint.port, reason: "\(error)")
    }

    static func isRefused(_ error: Error) -> Bool {
        (error as? IOError)?.errnoCode == ECONNREFUSED
    }

    static func timeAmount(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64((max(0, seconds) * 1_000_000_000).rounded()))
    }
}
