import Foundation
import NIOCore
import NIOWebSocket

/// One client connection: parameter checks, waiting for the lock, the prompt phase, then live echo.
/// A channel handler: every method runs on the server's event loop.
final class StandInSessionHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: NIO calls a handler only on its channel's event loop, the hub's too (one loop for all).
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase {
        case rejected
        case waitingForLock
        case prompting
        case live
        case closed
    }

    private let hub: StandInHub
    private let uri: String
    private var phase = Phase.waitingForLock
    private var context: ChannelHandlerContext?
    private var voice: StandInVoice?
    private var promptTimer: Scheduled<Void>?

    init(hub: StandInHub, uri: String) {
        self.hub = hub
        self.uri = uri
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        hub.count { $0.connections += 1 }
        guard Self.validParameters(uri: uri, voices: hub.options.voices) else {
            // Like the real server: the error happens after the upgrade and drops the socket with no message.
            phase = .rejected
            hub.count { $0.rejected += 1 }
            context.close(promise: nil)
            return
        }
        // Until it holds the lock nothing reads this socket (the real server's waiters are not read either).
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        hub.enqueue(self)
    }

    /// `text_prompt` must be present and non-empty; `voice_prompt` a known file name (no path).
    static func validParameters(uri: String, voices: Set<String>) -> Bool {
        guard let items = URLComponents(string: uri)?.queryItems else { return false }
        func value(_ name: String) -> String? { items.first { $0.name == name }?.value }
        guard let text = value("text_prompt"), !text.isEmpty, let voice = value("voice_prompt") else { return false }
        guard !items.contains(where: { $0.name == "seed" }) else { return false }  // the real server fails on it
        return voices.contains(voice)
    }

    /// The hub gave this client the lock: run the prompt phase, then go live.
    func lockAcquired() {
        guard phase == .waitingForLock, let context else { return }
        phase = .prompting
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        context.read()
        do {
            voice = try StandInVoice()
        } catch {
            closeNow()
            return
        }
        let delay = TimeAmount.nanoseconds(Int64(max(0, hub.options.promptPhaseSeconds) * 1e9))
        promptTimer = context.eventLoop.scheduleTask(in: delay) { [self] in goLive() }
    }

    private func goLive() {
        guard phase == .prompting, let context, let voice else { return }
        phase = .live
        hub.count { $0.sessionsLive += 1 }
        send(kind: 0x00, bytes: UnsafeRawBufferPointer(start: nil, count: 0), context: context)
        voice.drainPages { send(kind: 0x01, bytes: $0, context: context) }
        say(hub.options.greeting, context: context)
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self) ?? 1000
            var reply = context.channel.allocator.buffer(capacity: 2)
            reply.writeInteger(code == 1005 ? 1000 : code)
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply)),
                promise: nil)
            closeNow()
        case .ping:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .binary:
            receive(frame.unmaskedData, context: context)
        default:
            break  // text frames and the rest: the real server ignores them too
        }
    }

    private func receive(_ message: ByteBuffer, context: ChannelHandlerContext) {
        guard phase == .live, let voice else {
            if phase == .prompting { hub.count { $0.earlyMessages += 1 } }  // discarded, as the server does
            return
        }
        guard message.readableBytes > 1, message.getInteger(at: message.readerIndex, as: UInt8.self) == 0x01 else {
            return
        }
        hub.count { $0.pagesReceived += 1 }
        let said = message.withUnsafeReadableBytes { bytes in
            voice.receive(UnsafeRawBufferPointer(rebasing: bytes.dropFirst()))
        }
        let errors = voice.takeNewErrors()
        if errors > 0 { hub.count { $0.decodeErrors += errors } }
        voice.drainPages { send(kind: 0x01, bytes: $0, context: context) }
        if let said { say(said, context: context) }
        context.flush()
    }

    private func say(_ sentence: String, context: ChannelHandlerContext) {
        for piece in StandInVoice.pieces(sentence) {
            piece.utf8CString.withUnsafeBytes {
                send(kind: 0x02, bytes: UnsafeRawBufferPointer(rebasing: $0.dropLast()), context: context)
            }
        }
    }

    private func send(kind: UInt8, bytes: UnsafeRawBufferPointer, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count + 1)
        buffer.writeInteger(kind)
        buffer.writeBytes(bytes)
        switch kind {
        case 0x01: hub.count { $0.pagesSent += 1 }
        case 0x02: hub.count { $0.textsSent += 1 }
        default: break
        }
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: buffer)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeNow()
    }

    /// Ends the session from the server side (stop) or after a close frame.
    func closeNow() {
        guard let context else { return }
        end()
        context.close(promise: nil)
    }

    private func end() {
        guard phase != .closed else { return }
        let held = phase != .rejected
        if let voice { hub.count { $0.framesDecoded += voice.framesDecoded } }
        phase = .closed
        voice = nil
        promptTimer?.cancel()
        if held { hub.release(self) }
    }
}
