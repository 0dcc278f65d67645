import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// What a voice gateway socket reports; called on the socket's event loop.
protocol VoiceWebSocketDelegate: AnyObject, Sendable {
    func webSocketOpened(_ socket: VoiceWebSocket)
    func webSocketReceived(_ socket: VoiceWebSocket, text: [UInt8])
    func webSocketReceived(_ socket: VoiceWebSocket, binary: [UInt8])
    /// The socket is gone: `code` from the server's close frame, `nil` for a drop without one (or a failed connect).
    func webSocketClosed(_ socket: VoiceWebSocket, code: Int?, error: String?)
}

/// One voice gateway WebSocket (TLS unless the endpoint says otherwise). Confined to `eventLoop`.
final class VoiceWebSocket: @unchecked Sendable {
    // @unchecked: every mutable field is touched only on `eventLoop` (asserted in each method).
    let eventLoop: EventLoop
    private weak var delegate: (any VoiceWebSocketDelegate)?
    private var channel: Channel?
    private var closeCode: Int?
    private var reported = false
    private var failure: String?

    init(eventLoop: EventLoop, delegate: any VoiceWebSocketDelegate) {
        self.eventLoop = eventLoop
        self.delegate = delegate
    }

    /// Connects and upgrades; the delegate hears `webSocketOpened` or `webSocketClosed`.
    func connect(to endpoint: VoiceEndpoint, tls: NIOSSLContext?) {
        eventLoop.assertInEventLoop()
        let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64, maxAccumulatedFrameSize: 1 << 20))
                try channel.pipeline.syncOperations.addHandler(VoiceWebSocketFrameHandler(socket: self))
                self.opened(channel)
            }
        }
        let host = endpoint.host
        let authority = endpoint.port == (endpoint.secure ? 443 : 80) ? host : "\(host):\(endpoint.port)"
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        let isIP = (try? SocketAddress(ipAddress: host, port: 0)) != nil
                        try sync.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: isIP ? nil : host))
                    }
                    try sync.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.syncOperations.removeHandler(
                                    name: "voice-upgrade-request", promise: nil)
                            }
                        ))
                    try sync.addHandler(
                        VoiceUpgradeRequestHandler(socket: self, authority: authority),
                        name: "voice-upgrade-request")
                }
            }
        bootstrap.connect(host: host, port: endpoint.port).whenComplete { result in
            switch result {
            case .success(let channel):
                channel.closeFuture.whenComplete { _ in self.report() }
            case .failure(let error):
                self.failure = "\(error)"
                self.report()
            }
        }
    }

    private func opened(_ channel: Channel) {
        eventLoop.assertInEventLoop()
        self.channel = channel
        delegate?.webSocketOpened(self)
    }

    /// Sends one frame (client frames are masked).
    func send(_ frame: VoiceGatewayFrame) {
        eventLoop.assertInEventLoop()
        guard let channel else { return }
        let (opcode, bytes): (WebSocketOpcode, [UInt8]) =
            switch frame {
            case .text(let b): (.text, b)
            case .binary(let b): (.binary, b)
            }
        let buffer = channel.allocator.buffer(bytes: bytes)
        channel.writeAndFlush(
            WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: buffer),
            promise: nil)
    }

    /// Closes with `code` (not 1000/1001 when the session should stay resumable).
    func close(code: UInt16) {
        eventLoop.assertInEventLoop()
        guard let channel else { return report() }
        var data = channel.allocator.buffer(capacity: 2)
        data.writeInteger(code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
        // A peer that never answers must not keep us waiting.
        eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }

    func received(text: [UInt8]) { delegate?.webSocketReceived(self, text: text) }
    func received(binary: [UInt8]) { delegate?.webSocketReceived(self, binary: binary) }

    func receivedClose(code: Int?, context: ChannelHandlerContext) {
        closeCode = code
        var data = context.channel.allocator.buffer(capacity: 2)
        data.writeInteger(UInt16(code ?? 1000))
        let echo = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        let channel = context.channel
        context.writeAndFlush(NIOAny(echo)).whenComplete { _ in channel.close(promise: nil) }
    }

    func failed(_ error: Error) {
        if failure == nil { failure = "\(error)" }
    }

    private func report() {
        eventLoop.assertInEventLoop()
        guard !reported else { return }
        reported = true
        channel = nil
        delegate?.webSocketClosed(self, code: closeCode, error: closeCode == nil ? failure : nil)
    }
}

/// Sends the upgrade request; a response reaching it means the upgrade was refused.
private final class VoiceUpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    private let socket: VoiceWebSocket
    private let authority: String

    init(socket: VoiceWebSocket, authority: String) {
        self.socket = socket
        self.authority = authority
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: authority)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: VoiceEndpoint.requestTarget, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            socket.failed(VoiceConnectionError.upgradeRefused(status: Int(head.status.code)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        socket.failed(error)
        context.close(promise: nil)
    }
}

/// Voice gateway frames after the upgrade.
private final class VoiceWebSocketFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    private let socket: VoiceWebSocket

    init(socket: VoiceWebSocket) { self.socket = socket }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            socket.received(text: Array(frame.unmaskedData.readableBytesView))
        case .binary:
            socket.received(binary: Array(frame.unmaskedData.readableBytesView))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var payload = frame.unmaskedData
            socket.receivedClose(code: payload.readInteger(as: UInt16.self).map(Int.init), context: context)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        socket.failed(error)
        context.close(promise: nil)
    }
}
