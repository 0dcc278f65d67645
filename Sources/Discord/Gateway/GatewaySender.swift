import NIOCore
import NIOWebSocket

/// Everything sent on one gateway connection goes through here: the 4096-byte payload limit is checked before
/// sending and the 110-per-60-s budget paces ordinary sends (heartbeats never wait, but count).
actor GatewaySender {
    static let maxPayloadBytes = 4096

    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let scheduler: any GatewayScheduler
    private var budget = SendBudget()
    private var closed = false

    init(outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>, scheduler: any GatewayScheduler) {
        self.outbound = outbound
        self.scheduler = scheduler
    }

    /// Sends one JSON payload as a text frame.
    func send(_ payload: [UInt8], heartbeat: Bool = false) async throws {
        guard payload.count <= Self.maxPayloadBytes else { throw DiscordError.payloadTooLarge(bytes: payload.count) }
        if !heartbeat {
            while true {
                let wait = budget.delayBeforeSend(now: scheduler.clock.nowNanoseconds())
                if wait == 0 { break }
                try await scheduler.sleep(nanoseconds: wait)
            }
        }
        guard !closed else { throw CancellationError() }
        budget.record(now: scheduler.clock.nowNanoseconds())
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: payload))
        try await outbound.write(frame)
    }

    /// Sends a close frame with `code` (never 1000/1001 when the session should stay resumable).
    func close(code: UInt16) async {
        guard !closed else { return }
        closed = true
        var data = ByteBuffer()
        data.writeInteger(code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        try? await outbound.write(frame)
    }

    var isClosed: Bool { closed }
}
