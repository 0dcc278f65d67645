import Codecs
import FuzzSupport
import NIOCore
import NIOEmbedded
import NIOWebSocket

@testable import PersonaPlex

// PersonaPlex receive path: server bytes after the WebSocket upgrade, through the same frame decoder, aggregator and
// PersonaPlexFrameHandler the client installs, into the client's gate (0x00 handshake, then 0x01 audio / 0x02 text)
// and inbox; the drained audio pages then go to the Ogg Opus decoder and text pieces to String, as PersonaPlexLink
// does. Layout: [chunk size][WebSocket frames as a server sends them...], fed in chunks of 1...256 bytes.
let configuration = PersonaPlexConfiguration(
    endpoint: PersonaPlexEndpoint(secure: false, host: "127.0.0.1"), textPrompt: "fuzz", silenceTimeout: 0,
    inboxCapacity: 64)
let pcm = UnsafeMutableBufferPointer<Float>.allocate(capacity: 24_000)

FuzzDriver.run { data in
    var input = FuzzInput(data)
    let chunkSize = Int(input.byte()) + 1
    let loop = EmbeddedEventLoop()
    let client = PersonaPlexClient(configuration: configuration, eventLoopGroup: loop)
    let channel = EmbeddedChannel(loop: loop)
    do {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(WebSocketFrameEncoder())
        try sync.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try sync.addHandler(WebSocketProtocolErrorHandler())
        try sync.addHandler(
            NIOWebSocketFrameAggregator(
                minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 256, maxAccumulatedFrameSize: 1 << 20))
        try sync.addHandler(PersonaPlexFrameHandler(client: client))
    } catch {
        preconditionFailure("pipeline set-up failed: \(error)")
    }
    // An EmbeddedChannel is inactive until connected; the client only ever sees a connected one.
    do { try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8998)).wait() } catch {
        preconditionFailure("embedded connect failed: \(error)")
    }
    client.channel = channel
    client.transition(to: .connecting)  // as `connect()` then the upgrade would move it
    client.transition(to: .upgraded)
    guard let decoder = try? OggOpusDecoder(sampleRate: 24_000, channels: 1, applyPreSkip: false) else {
        preconditionFailure("decoder set-up failed")
    }
    var text = ""
    while !input.isAtEnd, channel.isActive {
        let chunk = input.take(chunkSize)
        var buffer = channel.allocator.buffer(capacity: chunk.count)
        buffer.writeBytes(chunk)
        do { try channel.writeInbound(buffer) } catch { break }  // a protocol error closes the socket, as it would
        client.drainReceived { kind, payload, _ in
            switch kind {
            case .audio:
                decoder.push(payload)
                while decoder.readFrame(into: pcm) {}
            case .text:
                text += String(decoding: payload, as: UTF8.self)
            }
        }
    }
    let counters = client.counters
    precondition(
        counters.audioReceived >= counters.audioDropped && counters.textReceived >= counters.textDropped,
        "drops never exceed receipts")
    _ = text.count
    _ = try? channel.finish(acceptAlreadyClosed: true)
}
