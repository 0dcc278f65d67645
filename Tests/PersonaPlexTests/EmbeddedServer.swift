import NIOCore
import NIOEmbedded
import Realtime
import XCTest

@testable import PersonaPlex

/// Plays the PersonaPlex server for one client on an `EmbeddedChannel`, in virtual time: the client runs its real
/// pipeline (HTTP upgrade, WebSocket codec, its state machine and timers) on an `EmbeddedEventLoop`, every timestamp
/// comes from a `ManualClock`, and nothing sleeps. Single-threaded: use it from one test thread.
final class EmbeddedServer {
    /// The RFC 6455 example key and its accept value, so the test can answer the upgrade without hashing.
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    let loop = EmbeddedEventLoop()
    let clock = ManualClock()
    let recorder = StateRecorder()
    let client: PersonaPlexClient
    private let accepted: Locked<EmbeddedChannel?>

    /// A client for `127.0.0.1:port` (a port of its own, so sessions of other tests never look like a holder).
    init(port: Int, configure: (inout PersonaPlexConfiguration) -> Void = { _ in }) {
        var configuration = PersonaPlexConfiguration(
            endpoint: PersonaPlexEndpoint(secure: false, host: "127.0.0.1", port: port),
            textPrompt: "You enjoy having a good conversation.")
        configure(&configuration)
        let accepted = Locked<EmbeddedChannel?>(nil)
        self.accepted = accepted
        let connector = PersonaPlexConnector { eventLoop, _, port, _, initializer in
            guard let embedded = eventLoop as? EmbeddedEventLoop else {
                return eventLoop.makeFailedFuture(TestSupportError("not an embedded loop"))
            }
            let channel = EmbeddedChannel(loop: embedded)
            accepted.withLock { $0 = channel }
            return initializer(channel)
                .flatMapThrowing { try SocketAddress(ipAddress: "127.0.0.1", port: port) }
                .flatMap { channel.connect(to: $0) }
                .map { channel }
        }
        client = PersonaPlexClient(
            configuration: configuration, eventLoopGroup: loop, clock: clock, logger: nil,
            onStateChange: recorder.callback, onMessage: nil, connector: connector,
            webSocketKey: Self.key)
    }

    /// The client's side of the socket.
    var channel: EmbeddedChannel {
        get throws { try XCTUnwrap(accepted.current, "the client has not connected") }
    }

    /// Starts the client and answers its upgrade request with `101`; returns the connect future.
    func connectAndUpgrade(file: StaticString = #filePath, line: UInt = #line) throws -> EventLoopFuture<Void> {
        let connected = client.startConnecting()
        loop.run()
        let request = try readOutboundText()
        XCTAssertTrue(request.hasPrefix("GET /api/chat?text_prompt="), request, file: file, line: line)
        XCTAssertTrue(request.contains("Sec-WebSocket-Key: \(Self.key)"), request, file: file, line: line)
        try channel.writeInbound(
            ByteBuffer(
                string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Accept: \(Self.accept)\r\n\r\n"))
        loop.run()
        return connected
    }

    /// Delivers one unmasked server frame carrying `kind` + `payload` (binary opcode).
    func sendServerMessage(kind: UInt8, payload: [UInt8] = []) throws {
        try sendServerFrame(opcode: 0x2, [kind] + payload)
    }

    /// Delivers one unmasked, final server frame (payload under 126 bytes).
    func sendServerFrame(opcode: UInt8, _ payload: [UInt8]) throws {
        precondition(payload.count < 126)
        var buffer = ByteBuffer()
        buffer.writeBytes([0x80 | opcode, UInt8(payload.count)] + payload)
        try channel.writeInbound(buffer)
        loop.run()
    }

    /// Everything the client wrote since the last call, as bytes (emptying the channel's outbound queue).
    func readOutboundBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        return bytes
    }

    /// Everything the client wrote since the last call, as text.
    func readOutboundText() throws -> String {
        String(decoding: try readOutboundBytes(), as: UTF8.self)
    }

    /// Moves the loop's time and the clock forward together.
    func advance(milliseconds: Int64) {
        clock.advance(nanoseconds: UInt64(milliseconds) * Nanoseconds.perMillisecond)
        loop.advanceTime(by: .milliseconds(milliseconds))
    }

    /// The future's outcome once the loop ran what is due; `nil` while it is pending.
    func outcome<T: Sendable>(_ future: EventLoopFuture<T>) -> Result<T, Error>? {
        let box = Locked<Result<T, Error>?>(nil)
        future.whenComplete { result in box.withLock { $0 = result } }
        loop.run()
        return box.current
    }

    /// The state changes the tick thread would read from the client's ring.
    func drainedStates() -> [PersonaPlexState] {
        var states: [PersonaPlexState] = []
        client.drainStateChanges { states.append($0) }
        return states
    }
}
