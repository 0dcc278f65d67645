import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// The event-loop side of `PersonaPlexClient`: connecting, the `0x00` gate, receiving, closing.
/// Every method here runs on `eventLoop`.
extension PersonaPlexClient {
    func beginConnecting(requestTarget: String, tlsContext: NIOSSLContext?, promise: EventLoopPromise<Void>) {
        guard phase == .idle else {
            promise.fail(PersonaPlexError.cancelled)
            return
        }
        connectPromise = promise
        phase = .connecting
        setState(.connecting)
        let endpoint = configuration.endpoint
        let timeout = configuration.handshakeTimeout
        handshakeTimer = eventLoop.scheduleTask(in: Self.timeAmount(timeout)) {
            if self.phase == .connecting || self.phase == .upgraded {
                self.finish(.failed(.handshakeTimeout(seconds: timeout)))
            }
        }
        let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(NIOWebSocketFrameAggregator(
                    minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 256, maxAccumulatedFrameSize: 1 << 20))
                try sync.addHandler(PersonaPlexFrameHandler(client: self))
                self.didUpgrade()
            }
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(Self.timeAmount(configuration.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tlsContext {
                        try sync.addHandler(PersonaPlexTLS.makeHandler(context: tlsContext, host: endpoint.host))
                    }
                    let requestHandler = PersonaPlexUpgradeRequestHandler(
                        client: self, requestTarget: requestTarget, authority: endpoint.authority)
                    try sync.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(requestHandler, promise: nil)
                        }))
                    try sync.addHandler(requestHandler)
                }
            }
        bootstrap.connect(host: endpoint.host, port: endpoint.port).whenComplete { result in
            switch result {
            case let .success(channel):
                guard self.phase != .ended else {
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
        guard phase == .connecting else { return }
        tlsDone = true
        phase = .upgraded
        let id = ObjectIdentifier(self)
        let authority = configuration.endpoint.authority
        let lockHeld = PersonaPlexSessionRegistry.othersOpen(besides: id, authority: authority)
        PersonaPlexSessionRegistry.register(id, authority: authority)
        registered = true
        if lockHeld {
            // Another session of this process holds the server's single-session lock: we queue behind it, and the
            // prompts are processed only once it ends.
            setState(.waitingForServer(.heldByThisProcess))
            watchLockHolder(id: id, authority: authority)
        } else {
            setState(.upgraded)
            scheduleBusyNotice()
        }
    }

    /// While queued behind a session of this process, checks every 50 ms whether it ended; then "warming up".
    private func watchLockHolder(id: ObjectIdentifier, authority: String) {
        lockWatch = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { task in
            guard self.phase == .upgraded else { return task.cancel() }
            guard !PersonaPlexSessionRegistry.othersOpen(besides: id, authority: authority) else { return }
            task.cancel()
            self.setState(.upgraded)
            self.scheduleBusyNotice()
        }
    }

    /// Silence after the upgrade is either a slow warm-up or another client holding the lock; after
    /// `waitingNotice` seconds without `0x00` the state names both possibilities.
    private func scheduleBusyNotice() {
        waitingTimer = eventLoop.scheduleTask(in: Self.timeAmount(configuration.waitingNotice)) {
            guard self.phase == .upgraded else { return }
            self.setState(.waitingForServer(.serverBusyOrWarmingUp))
        }
    }

    func didReceiveBinary(_ payload: inout ByteBuffer, receivedAt: UInt64, channel: Channel) {
        lastReceivedAt = receivedAt
        guard let kind = payload.readInteger(as: UInt8.self) else {
            inbox.update { $0.ignoredMessages += 1 }
            return
        }
        switch (phase, kind) {
        case (.upgraded, PersonaPlexProtocol.Kind.handshake):
            if payload.readableBytes > 0 { inbox.update { $0.longHandshakes += 1 } }
            becomeLive(channel: channel)
        case (.live, PersonaPlexProtocol.Kind.handshake):
            inbox.update { $0.repeatedHandshakes += 1 }
        case (.live, PersonaPlexProtocol.Kind.audio), (.live, PersonaPlexProtocol.Kind.text):
            let messageKind: PersonaPlexMessage.Kind = kind == PersonaPlexProtocol.Kind.audio ? .audio : .text
            if let onMessage {
                let message = PersonaPlexMessage(kind: messageKind, payload: Array(payload.readableBytesView),
                                                 receivedAtNanos: receivedAt)
                inbox.update { if message.kind == .audio { $0.audioReceived += 1 } else { $0.textReceived += 1 } }
                onMessage(message)
            } else {
                payload.withUnsafeReadableBytes { inbox.append(kind: messageKind, payload: $0, receivedAt: receivedAt) }
            }
        default:
            inbox.update { $0.ignoredMessages += 1 }
        }
    }

    func didReceiveIgnoredFrame() {
        inbox.update { $0.ignoredMessages += 1 }
    }

    func didReceiveCloseFrame(code: Int?, channel: Channel) {
        serverCloseCode = code
        if phase == .closing {
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
        tlsDone = true
    }

    func upgradeWasRefused(status: Int, reason: String) {
        let detail = upgradeError.map { "\(reason) (\($0))" } ?? reason
        finish(.failed(.upgradeRejected(status: status, reason: detail)))
    }

    func pipelineError(_ error: Error) {
        if error is NIOHTTPClientUpgradeError {
            upgradeError = "\(error)"
            return
        }
        if configuration.endpoint.secure, !tlsDone, PersonaPlexTLS.isHandshakeError(error) {
            finish(.failed(.tlsFailure(reason: "\(error)", plaintextReply: PersonaPlexTLS.looksLikePlaintextReply(error))))
        } else if phase == .connecting {
            let endpoint = configuration.endpoint
            finish(.failed(.connectionFailed(host: endpoint.host, port: endpoint.port, reason: "\(error)")))
        } else {
            logger?(.debug, "PersonaPlex: channel error \(error)")
        }
    }

    func channelBecameInactive() {
        let endpoint = configuration.endpoint
        switch phase {
        case .idle, .ended:
            return
        case .connecting:
            finish(.failed(.connectionFailed(
                host: endpoint.host, port: endpoint.port, reason: "the connection closed before the WebSocket upgrade")))
        case .upgraded:
            finish(.failed(.closedDuringWarmUp(closeCode: serverCloseCode)))
        case .live:
            finish(.failed(.serverClosedSession(closeCode: serverCloseCode)))
        case .closing:
            finish(.closed)
        }
    }

    // MARK: Transitions

    func becomeLive(channel: Channel) {
        phase = .live
        handshakeTimer?.cancel()
        waitingTimer?.cancel()
        lockWatch?.cancel()
        // The holder's end and our 0x00 can race the 50 ms watch: the order stays waiting -> warming up -> live.
        if case .waitingForServer(.heldByThisProcess) = shared.current.state { setState(.upgraded) }
        rawContext = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        setState(.live, liveChannel: channel)
        connectPromise?.succeed(())
        connectPromise = nil
        startSilenceWatch()
    }

    /// Fails the session when audio was written `silenceTimeout` after the last server message.
    func startSilenceWatch() {
        let timeout = configuration.silenceTimeout
        guard timeout > 0 else { return }
        let limit = UInt64(timeout * 1_000_000_000)
        let period = Self.timeAmount(min(1, timeout / 4))
        silenceWatch = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            guard self.phase == .live, self.lastWrittenAt > self.lastReceivedAt &+ limit else { return }
            self.finish(.failed(.serverSilent(seconds: timeout)))
        }
    }

    func beginClosing(done: EventLoopPromise<Void>) {
        endPromise.futureResult.cascade(to: done)
        switch phase {
        case .ended, .closing:
            return
        case .idle:
            finish(.closed)
        case .connecting:
            phase = .closing
            if let channel { channel.close(promise: nil) } else { finish(.closed) }
        case .upgraded, .live:
            let wasLive = phase == .live
            // Pages accepted before close() go out before the close frame; later ones are refused.
            acceptingSends.store(false, ordering: .sequentiallyConsistent)
            if wasLive { flushOutbox() }
            phase = .closing
            shared.withLock { $0.liveChannel = nil }
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
        guard phase != .ended else { return }
        phase = .ended
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
        setState(final)
        if let pending = connectPromise {
            connectPromise = nil
            if case let .failed(error) = final { pending.fail(error) } else { pending.fail(PersonaPlexError.cancelled) }
        }
        if let channel, channel.isActive { channel.close(promise: nil) }
        endCompleted = true
        endPromise.succeed(())
    }

    func setState(_ newState: PersonaPlexState, liveChannel: Channel? = nil) {
        acceptingSends.store(liveChannel != nil, ordering: .sequentiallyConsistent)
        let changed = shared.withLock { shared -> Bool in
            shared.liveChannel = liveChannel
            guard shared.state != newState else { return false }
            shared.state = newState
            return true
        }
        guard changed else { return }
        if case .failed = newState {
            logger?(.error, "PersonaPlex \(configuration.endpoint.authority): \(newState)")
        } else {
            logger?(.info, "PersonaPlex \(configuration.endpoint.authority): \(newState)")
        }
        onStateChange?(newState)
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
            return .connectionFailed(host: endpoint.host, port: endpoint.port,
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
