import DiscordVoice
import NIOCore

/// The UDP side of `SimulatedVoiceServer`: IP discovery answers, and the relay that opens each member's packet
/// with its key and re-seals it for every other member with theirs (discord.md §4), with Discord's packet shapes
/// and the configured faults.
extension SimulatedVoiceServer {
    func datagram(_ bytes: [UInt8], from address: SocketAddress) {
        if bytes.count == IPDiscovery.packetLength, bytes[0] == 0, bytes[1] == 1 {
            let ssrc = bytes.withUnsafeBytes { RTPHeaderReader.u32($0, 4) }
            guard let member = members.values.first(where: { $0.ssrc == ssrc }) else { return }
            member.udpAddress = address
            let reply = IPDiscovery.response(
                ssrc: ssrc, address: address.ipAddress ?? "127.0.0.1",
                port: UInt16(clamping: address.port ?? 0))
            return write(reply, to: address)
        }
        if bytes.count == 8 { return }  // keepalive
        guard let sender = members.values.first(where: { $0.udpAddress == address }), let opener = sender.opener
        else { return }
        let kind = bytes.withUnsafeBytes { opener.open($0, isKnown: { $0 == sender.ssrc }) }
        guard kind == .audio else { return }
        let payload = Array(opener.payload)
        let header = opener.header
        sender.relayedFrom += 1
        for receiver in members.values where receiver !== sender && receiver.udpAddress != nil {
            relay(payload, header: header, from: sender, to: receiver)
        }
    }

    private func relay(
        _ payload: [UInt8], header: RTPHeader, from sender: SimulatedVoiceMember,
        to receiver: SimulatedVoiceMember
    ) {
        guard let cipher = receiver.cipher, let address = receiver.udpAddress else { return }
        let o = options
        func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1) < p }
        func seal(_ body: [UInt8], ssrc: UInt32, padding: UInt8, ext: [UInt8]?) -> [UInt8]? {
            receiver.nonce &+= 1
            return try? RTPPacketBuilder.packet(
                cipher: cipher, sequence: header.sequence, timestamp: header.timestamp,
                ssrc: ssrc, extensionBody: ext, payload: body, padding: padding,
                nonce: receiver.nonce)
        }
        if chance(o.lossRate) {
            faultsInjected += 1
            return
        }
        let ext: [UInt8]? = chance(o.extensionRate) ? [0x10, 0x5A, 0x00, 0x00, 0x21, 0x01, 0x02, 0x00] : nil
        let padding: UInt8 = chance(o.paddingRate) ? UInt8.random(in: 1...8) : 0
        guard let packet = seal(payload, ssrc: sender.ssrc, padding: padding, ext: ext) else { return }
        relayed += 1
        var out: [[UInt8]] = [packet]
        if chance(o.duplicateRate) {
            faultsInjected += 1
            out.append(packet)
        }
        if chance(o.paddingOnlyRate), let only = seal([], ssrc: sender.ssrc, padding: 4, ext: nil) { out.append(only) }
        if chance(o.rtcpRate) { out.append(RTPPacketBuilder.receiverReport(ssrc: sender.ssrc)) }
        if chance(o.unknownSSRCRate),
            let stray = seal(
                payload, ssrc: 0xFEED_0000 | UInt32.random(in: 0...0xFFFF),
                padding: 0, ext: nil)
        {
            faultsInjected += 1
            out.append(stray)
        }
        if chance(o.garbageRate) {
            faultsInjected += 1
            out.append((0..<Int.random(in: 1...120)).map { _ in UInt8.random(in: 0...255) })
        }
        if chance(o.reorderRate), heldBack == nil {
            faultsInjected += 1
            heldBack = (out.removeFirst(), address)
        } else if let held = heldBack {
            heldBack = nil
            out.append(held.packet)
        }
        for bytes in out {
            if o.jitterMilliseconds > 0 {
                let delay = Int64.random(in: 0...Int64(o.jitterMilliseconds))
                eventLoop.scheduleTask(in: .milliseconds(delay)) { self.write(bytes, to: address) }
            } else {
                write(bytes, to: address)
            }
        }
    }

    func write(_ bytes: [UInt8], to address: SocketAddress) {
        guard let udp else { return }
        udp.writeAndFlush(
            AddressedEnvelope(remoteAddress: address, data: udp.allocator.buffer(bytes: bytes)),
            promise: nil)
    }
}

/// Big-endian reads for the relay.
enum RTPHeaderReader {
    static func u32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}

/// Datagrams to the simulated voice server.
final class SimulatedVoiceUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let server: SimulatedVoiceServer

    init(server: SimulatedVoiceServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        server.datagram(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
