import DiscordVoice
import Foundation
import NIOCore
import NIOWebSocket

/// The voice gateway v8 side of `SimulatedVoiceServer` (discord.md §3): Identify, Hello, Ready, Select Protocol,
/// Session Description, heartbeats, Speaking, op 11/13, Resume with replay, DAVE ops to the coordinator.
extension SimulatedVoiceServer {
    func socketText(_ bytes: [UInt8], on channel: Channel) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let op = object["op"] as? Int
        else { return close(channel, 4002) }
        let d = object["d"] as? [String: Any] ?? [:]
        if op == 0 { return identify(d, on: channel) }
        if op == 7 { return resume(d, on: channel) }
        guard let member = members.values.first(where: { $0.socket === channel }) else { return close(channel, 4003) }
        switch op {
        case 1:
            selectProtocol(d, member: member)
        case 3:
            member.heartbeats += 1
            send(json: 6, ["t": d["t"] ?? 0] as [String: Any], to: member, replayable: false)
        case 5:
            let flags = d["speaking"] as? Int ?? 0
            for other in members.values where other !== member {
                send(
                    json: 5, ["user_id": String(member.userID), "ssrc": Int(member.ssrc), "speaking": flags],
                    to: other)
            }
        case 23:
            coordinator.ready(from: member.userID, transitionID: UInt16(clamping: d["transition_id"] as? Int ?? -1))
        case 31:
            coordinator.invalid(from: member.userID, transitionID: UInt16(clamping: d["transition_id"] as? Int ?? 0))
        default:
            break
        }
    }

    func socketBinary(_ bytes: [UInt8], on channel: Channel) {
        guard let member = members.values.first(where: { $0.socket === channel }), let op = bytes.first else { return }
        let payload = Array(bytes.dropFirst())
        switch op {
        case 26: coordinator.keyPackage(from: member.userID, payload)
        case 28: coordinator.commitWelcome(from: member.userID, payload)
        default: break
        }
    }

    /// The socket went away without a close we injected: the session stays resumable for a while.
    func socketClosed(_ channel: Channel) {
        guard let member = members.values.first(where: { $0.socket === channel }) else { return }
        member.socket = nil
        let userID = member.userID
        let identity = ObjectIdentifier(member)
        eventLoop.scheduleTask(in: .seconds(15)) {
            if let current = self.members[userID], ObjectIdentifier(current) == identity, current.socket == nil {
                self.memberGone(userID)
            }
        }
    }

    func close(_ channel: Channel, _ code: UInt16) {
        var data = channel.allocator.buffer(capacity: 2)
        data.writeInteger(code)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func identify(_ d: [String: Any], on channel: Channel) {
        guard let sessionID = d["session_id"] as? String, let token = d["token"] as? String,
            let userText = d["user_id"] as? String, let userID = UInt64(userText),
            let grant = authorized[sessionID], grant.userID == userID, grant.token == token
        else { return close(channel, 4004) }
        if options.daveProtocolVersion > 0, (d["max_dave_protocol_version"] as? Int ?? 0) < 1 {
            return close(channel, 4017)
        }
        if let previous = members[userID] {
            previous.socket?.close(promise: nil)
            memberGone(userID)
        }
        nextSSRC &+= 1
        let member = SimulatedVoiceMember(userID: userID, sessionID: sessionID, token: token, ssrc: nextSSRC)
        member.socket = channel
        members[userID] = member
        send(
            json: 8, ["v": 8, "heartbeat_interval": options.heartbeatIntervalMilliseconds], to: member,
            replayable: false)
        send(
            json: 2,
            [
                "ssrc": Int(member.ssrc), "ip": "127.0.0.1", "port": udp?.localAddress?.port ?? 0,
                "modes": options.modes.map(\.rawValue), "heartbeat_interval": 1,
            ], to: member)
        let others = members.values.filter { $0 !== member }
        if !others.isEmpty {
            send(json: 11, ["user_ids": others.map { String($0.userID) }], to: member)
            for other in others {
                send(json: 11, ["user_ids": [String(userID)]], to: other)
                send(json: 5, ["user_id": String(other.userID), "ssrc": Int(other.ssrc), "speaking": 0], to: member)
            }
        }
    }

    private func selectProtocol(_ d: [String: Any], member: SimulatedVoiceMember) {
        guard let data = d["data"] as? [String: Any], let modeName = data["mode"] as? String,
            let mode = TransportMode(rawValue: modeName), options.modes.contains(mode),
            let socket = member.socket
        else { return member.socket.map { close($0, 4016) } ?? () }
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        guard let cipher = try? TransportCipher(mode: mode, key: key) else { return close(socket, 4016) }
        member.cipher = cipher
        member.opener = VoicePacketOpener(cipher: cipher)
        member.mode = mode
        member.described = true
        send(
            json: 4,
            [
                "mode": mode.rawValue, "secret_key": key.map(Int.init),
                "dave_protocol_version": Int(options.daveProtocolVersion),
            ], to: member)
        if options.daveProtocolVersion > 0 { coordinator.memberJoined(member.userID) }
    }

    private func resume(_ d: [String: Any], on channel: Channel) {
        guard let sessionID = d["session_id"] as? String, let token = d["token"] as? String,
            let member = members.values.first(where: { $0.sessionID == sessionID }), member.token == token
        else { return close(channel, 4006) }
        member.socket?.close(promise: nil)
        member.socket = channel
        let ack = d["seq_ack"] as? Int ?? -1
        send(
            json: 8, ["v": 8, "heartbeat_interval": options.heartbeatIntervalMilliseconds], to: member,
            replayable: false)
        // Replay what the client has not acknowledged (seqs wrap at 2^16).
        let acked = UInt16(truncatingIfNeeded: ack)
        let missed = member.replay.filter { ack < 0 || Int16(bitPattern: $0.seq &- acked) > 0 }
        for entry in missed { write(entry.frame, to: member) }
        send(json: 9, nil, to: member, replayable: false)
    }
}

/// WebSocket frames of one voice gateway client.
final class SimulatedVoiceSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    private let server: SimulatedVoiceServer

    init(server: SimulatedVoiceServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text: server.socketText(Array(frame.unmaskedData.readableBytesView), on: context.channel)
        case .binary: server.socketBinary(Array(frame.unmaskedData.readableBytesView), on: context.channel)
        case .connectionClose: context.close(promise: nil)
        case .ping:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)),
                promise: nil)
        default: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.socketClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}
