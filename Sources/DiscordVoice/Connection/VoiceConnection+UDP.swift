import NIOCore
import NIOPosix
import Realtime

/// The UDP side of `VoiceConnection`: IP discovery, keepalive, receive (transport → DAVE → ring), liveness.
extension VoiceConnection {
    func openUDP(ssrc: UInt32, ip: String, port: UInt16) {
        eventLoop.assertInEventLoop()
        closeUDP()
        let remote: SocketAddress
        do { remote = try SocketAddress.makeAddressResolvingHost(ip, port: Int(port)) } catch {
            log("voice: bad UDP address from Ready: \(error)")
            return stop(.protocolError(code: 0))
        }
        udpRemote = remote
        let bindHost = remote.protocol == .inet6 ? "::" : "0.0.0.0"
        DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(VoiceUDPHandler(connection: self))
                }
            }
            .bind(host: bindHost, port: 0)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard self.udpRemote == remote, self.udp == nil else { return channel.close(promise: nil) }
                    self.udp = channel
                    self.startDiscovery(ssrc: ssrc)
                case .failure(let error):
                    self.log("voice: UDP bind failed: \(error)")
                    self.stop(.retriesExhausted(lastCode: nil))
                }
            }
    }

    func closeUDP() {
        discoveryTask?.cancel()
        keepaliveTask?.cancel()
        livenessTask?.cancel()
        pacerTask?.cancel()
        discoveryTask = nil
        keepaliveTask = nil
        livenessTask = nil
        pacerTask = nil
        if let pacer { sendCounters = pacer.counters }
        pacer = nil
        udp?.close(promise: nil)
        udp = nil
        udpRemote = nil
    }

    /// Sends the 74-byte request every second until the response (five tries).
    private func startDiscovery(ssrc: UInt32) {
        discoveryAttempts = 0
        discoveryTask = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .seconds(1)) { task in
            guard self.session?.phase == .discovering else { return task.cancel() }
            self.discoveryAttempts += 1
            guard self.discoveryAttempts <= 5 else {
                task.cancel()
                self.log("voice: \(VoiceConnectionError.ipDiscoveryTimedOut)")
                self.socket?.close(code: 4000)
                return
            }
            self.writeUDP(IPDiscovery.request(ssrc: ssrc))
        }
    }

    func writeUDP(_ bytes: [UInt8]) {
        guard let udp, let udpRemote else { return }
        let envelope = AddressedEnvelope(remoteAddress: udpRemote, data: udp.allocator.buffer(bytes: bytes))
        udp.writeAndFlush(envelope, promise: nil)
    }

    /// One datagram from the voice server (on the event loop).
    func datagramReceived(_ bytes: UnsafeRawBufferPointer, at now: UInt64) {
        if session?.phase == .discovering, bytes.count == IPDiscovery.packetLength, bytes[0] == 0, bytes[1] == 2 {
            return discoveryAnswered(bytes)
        }
        guard let opener else { return }
        let kind = opener.open(bytes, isKnown: { self.speakers.user(for: $0) != nil })
        guard kind == .audio, let userID = speakers.user(for: opener.header.ssrc) else { return }
        if speakers.arrived(ssrc: opener.header.ssrc, at: now) {
            received.events.push(VoiceSpeakerEvent.started(userID: userID, ssrc: opener.header.ssrc))
        }
        guard let e2ee else { return }
        switch e2ee.decrypt(userID: userID, frame: opener.payload) {
        case .opus:
            e2ee.withDecrypted { _ = received.push(userID: userID, header: opener.header, arrival: now, opus: $0) }
        case .dropped(let replies):
            if !replies.isEmpty {
                log("voice: DAVE decryption kept failing; sent op 31 and re-initialised")
                send(dave: replies)
            }
        }
    }

    private func discoveryAnswered(_ bytes: UnsafeRawBufferPointer) {
        discoveryTask?.cancel()
        discoveryTask = nil
        do {
            let response = try IPDiscovery.parse(response: bytes)
            guard var session else { return }
            guard let (frame, _) = session.discovered(address: response.address, port: response.port) else {
                return stop(.noSupportedMode(offered: session.ready?.modes ?? []))
            }
            self.session = session
            send(frame)
        } catch {
            log("voice: bad IP discovery response: \(error)")
        }
    }

    /// After Session Description: keepalive, liveness and the paced sender.
    func startMedia() {
        eventLoop.assertInEventLoop()
        keepaliveTask?.cancel()
        livenessTask?.cancel()
        let keepalive = TimeAmount.nanoseconds(Int64(clamping: configuration.keepaliveInterval))
        keepaliveTask = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: keepalive) { _ in
            // 8 bytes: u32 little-endian counter, 4 zero bytes (discord.js); no reply expected.
            let c = self.keepaliveCounter
            self.keepaliveCounter &+= 1
            self.writeUDP([
                UInt8(truncatingIfNeeded: c), UInt8(truncatingIfNeeded: c >> 8),
                UInt8(truncatingIfNeeded: c >> 16), UInt8(truncatingIfNeeded: c >> 24), 0, 0, 0, 0,
            ])
        }
        let timeout = configuration.livenessTimeout
        livenessTask = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { _ in
            for user in self.speakers.silenced(now: self.clock.nowNanoseconds(), timeout: timeout) {
                self.received.events.push(VoiceSpeakerEvent.silent(userID: user))
            }
        }
        startPacer()
    }
}

/// Hands datagrams to the connection; the bytes are read in place (no copy).
final class VoiceUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let connection: VoiceConnection

    init(connection: VoiceConnection) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = SystemClock.now()
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == connection.udpRemote else { return }
        envelope.data.withUnsafeReadableBytes { connection.datagramReceived($0, at: now) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port unreachable and the like: UDP carries on.
    }
}
