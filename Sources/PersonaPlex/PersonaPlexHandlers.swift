import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Sends the upgrade request once the channel is active and reports what happens before the upgrade:
/// a non-101 response and errors. Removed from the pipeline when the upgrade succeeds.
final class PersonaPlexUpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let client: PersonaPlexClient
    private let requestTarget: String
    private let authority: String

    init(client: PersonaPlexClient, requestTarget: String, authority: String) {
        self.client = client
        self.requestTarget = requestTarget
        self.authority = authority
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: authority)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: requestTarget, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only reached when the upgrade did not happen: the response is not a valid 101.
        client.tlsHandshakeCompleted()
        if case let .head(head) = unwrapInboundIn(data) {
            client.upgradeWasRefused(status: Int(head.status.code), reason: head.status.reasonPhrase)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        client.pipelineError(error)
        if !(error is NIOHTTPClientUpgradeError) { context.close(promise: nil) }
    }
}

/// Handles WebSocket frames after the upgrade: PersonaPlex messages, pings, close frames.
final class PersonaPlexFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let client: PersonaPlexClient

    init(client: PersonaPlexClient) {
        self.client = client
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let receivedAt = client.clock.nowNanoseconds()
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary:
            var payload = frame.unmaskedData
            client.didReceiveBinary(&payload, receivedAt: receivedAt, channel: context.channel)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var payload = frame.unmaskedData
            let code = payload.readInteger(as: UInt16.self).map(Int.init)
            client.didReceiveCloseFrame(code: code, channel: context.channel)
        case .pong:
            break
        default:
            client.didReceiveIgnoredFrame()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        client.pipelineError(error)
        context.close(promise: nil)
    }
}
