import DAVE
import NIOCore

/// The voice gateway side of `VoiceConnection`: frames in, heartbeats, close codes.
extension VoiceConnection: VoiceWebSocketDelegate {
    func webSocketOpened(_ socket: VoiceWebSocket) {
        eventLoop.assertInEventLoop()
        guard socket === self.socket, var session else { return }
        let frames = session.socketOpened(now: clock.nowNanoseconds())
        self.session = session
        if session.phase == .resuming { totalResumes += 1 }
        frames.forEach(socket.send)
    }

    func webSocketReceived(_ socket: VoiceWebSocket, text: [UInt8]) {
        guard socket === self.socket else { return }
        do { handle(try VoiceGatewayCodec.decode(text: text)) } catch { log("voice: \(error)") }
    }

    func webSocketReceived(_ socket: VoiceWebSocket, binary: [UInt8]) {
        guard socket === self.socket else { return }
        do { handle(try VoiceGatewayCodec.decode(binary: binary)) } catch { log("voice: \(error)") }
    }

    func send(_ frame: VoiceGatewayFrame) { socket?.send(frame) }

    func send(dave messages: [DAVEClientMessage]) {
        for message in messages { send(VoiceGatewayCodec.dave(message)) }
    }

    private func handle(_ decoded: VoiceGatewayCodec.Decoded) {
        eventLoop.assertInEventLoop()
        guard var session else { return }
        let now = clock.nowNanoseconds()
        let frames = session.receive(decoded, now: now)
        self.session = session
        frames.forEach(send)
        guard let event = decoded.event else { return }
        switch event {
        case .hello:
            scheduleHeartbeat()
        case .ready(let ssrc, let ip, let port, _):
            phase = .negotiating
            resumesInARow = 0
            openUDP(ssrc: ssrc, ip: ip, port: port)
        case .sessionDescription(let modeName, let key, let daveVersion):
            sessionDescribed(modeName: modeName, key: key, daveVersion: daveVersion)
        case .resumed:
            resumesInARow = 0
            if session.phase == .established { phase = .connected }
        case .speaking(let userID, let ssrc, _):
            // The mapping only; `started` is reported when the user's first frame of a talkspurt arrives.
            _ = speakers.speaking(userID: userID, ssrc: ssrc)
            e2ee?.usersConnected([userID])
        case .clientsConnected(let ids):
            speakers.connected(ids)
            e2ee?.usersConnected(ids)
        case .clientDisconnected(let id):
            speakers.disconnected(id)
            e2ee?.userDisconnected(id)
            received.events.push(VoiceSpeakerEvent.left(userID: id))
        case .heartbeatAck:
            break
        case .davePrepareTransition, .daveExecuteTransition, .davePrepareEpoch, .daveBinary:
            guard let e2ee else { return }
            do { send(dave: try e2ee.handle(event)) } catch { log("voice: DAVE refused op: \(error)") }
        }
    }

    private func sessionDescribed(modeName: String, key: [UInt8], daveVersion: UInt16) {
        guard let mode = TransportMode(rawValue: modeName) else {
            return stop(.noSupportedMode(offered: [modeName]))
        }
        do {
            let cipher = try TransportCipher(mode: mode, key: key)
            self.mode = mode
            opener = VoicePacketOpener(cipher: cipher)
            if let ssrc = session?.ready?.ssrc {
                // A new key (after a rejoin) keeps our RTP stream's sequence/timestamp continuity.
                sealer = VoicePacketSealer(
                    cipher: cipher, ssrc: ssrc,
                    sequence: sealer?.sequence ?? .random(in: .min ... .max),
                    timestamp: sealer?.timestamp ?? .random(in: .min ... .max))
            }
        } catch {
            log("voice: bad session key: \(error)")
            return stop(.protocolError(code: 0))
        }
        if let e2ee {
            do { send(dave: try e2ee.start(protocolVersion: daveVersion)) } catch {
                log("voice: DAVE could not start: \(error)")
            }
        }
        phase = .connected
        rejoinsInARow = 0
        payloadBugRejoins = 0
        startMedia()
    }

    // MARK: Heartbeats

    func scheduleHeartbeat() {
        eventLoop.assertInEventLoop()
        heartbeatTask?.cancel()
        guard let session, session.nextHeartbeat != .max else { return }
        let delay = Int64(clamping: session.nextHeartbeat &- min(session.nextHeartbeat, clock.nowNanoseconds()))
        heartbeatTask = eventLoop.scheduleTask(in: .nanoseconds(delay)) { self.heartbeatDue() }
    }

    private func heartbeatDue() {
        guard var session, let socket else { return }
        let now = clock.nowNanoseconds()
        let due = session.tick(now: now, nonce: Int(now / 1_000_000))
        self.session = session
        switch due {
        case .nothing: break
        case .send(let frame): socket.send(frame)
        case .zombie:
            log("voice: heartbeats unanswered; reconnecting to resume")
            closingForResume = true
            socket.close(code: 4000)
            return
        }
        scheduleHeartbeat()
    }

    // MARK: Close codes

    func webSocketClosed(_ socket: VoiceWebSocket, code: Int?, error: String?) {
        eventLoop.assertInEventLoop()
        guard socket === self.socket else { return }
        self.socket = nil
        heartbeatTask?.cancel()
        session?.socketClosed()
        if let error { log("voice: socket closed: \(error)") }
        var action = VoiceClosePolicy.action(forCloseCode: code, payloadBugRejoinsSoFar: payloadBugRejoins)
        if closingForResume { action = .resume }
        closingForResume = false
        log("voice: socket closed (code \(code.map(String.init) ?? "none")) → \(action)")
        switch action {
        case .resume:
            resumesInARow += 1
            guard resumesInARow <= configuration.maximumResumes else { return rejoin(lastCode: code) }
            let delay = TimeAmount.milliseconds(Int64(min(5_000, 250 << min(resumesInARow - 1, 5))))
            eventLoop.scheduleTask(in: delay) {
                guard self.socket == nil, self.info != nil, self.phase == .connecting || self.isLive else { return }
                self.openSocket()
            }
            phase = .connecting
        case .rejoin:
            if let code, !(4006...4011).contains(code) { payloadBugRejoins += 1 }
            rejoin(lastCode: code)
        case .awaitVoiceUpdate:
            tearDown()
            phase = .waitingForServer
        case .stop(let reason):
            stop(reason)
        }
    }

    private var isLive: Bool {
        switch phase {
        case .connected, .negotiating, .connecting: return true
        default: return false
        }
    }

    /// Full reconnect: a new op 4 on the main gateway, then a new voice session from its updates.
    private func rejoin(lastCode: Int?) {
        tearDown()
        guard rejoinsInARow < configuration.maximumRejoins, let control, let info else {
            return stop(.retriesExhausted(lastCode: lastCode))
        }
        totalRejoins += 1
        phase = .rejoining
        let mute = configuration.selfMute
        let deaf = configuration.selfDeaf
        let log = self.log
        Task {
            do {
                try await control.updateVoiceState(
                    guildID: info.guildID, channelID: info.channelID,
                    selfMute: mute, selfDeaf: deaf)
            } catch {
                log("voice: rejoin request failed: \(error)")
            }
        }
    }
}
