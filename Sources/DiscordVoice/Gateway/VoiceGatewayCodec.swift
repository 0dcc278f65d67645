import DAVE
import Discord
import Foundation

/// Encodes our voice gateway messages and decodes the server's (JSON text frames and DAVE binary frames).
public enum VoiceGatewayCodec {
    /// A decoded message: its event (nil for ops we ignore, including unknown ones) and its replay `seq`, if any.
    public struct Decoded: Equatable {
        public var event: VoiceGatewayEvent?
        public var seq: Int?
    }

    // MARK: Decoding

    /// Decodes one JSON text frame.
    public static func decode(text: [UInt8]) throws(VoiceGatewayMessageError) -> Decoded {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text)) as? [String: Any],
            let op = integer(object["op"])
        else { throw .notAnObject }
        let seq = integer(object["seq"])
        let d = object["d"] as? [String: Any] ?? [:]
        func need<T>(_ field: String, _ value: T?) throws(VoiceGatewayMessageError) -> T {
            guard let value else { throw .badField(op: op, field: field) }
            return value
        }
        let event: VoiceGatewayEvent?
        switch op {
        case VoiceOpcode.hello:
            let interval = try need("heartbeat_interval", number(d["heartbeat_interval"]))
            guard interval >= 1, interval <= 600_000 else { throw .badField(op: op, field: "heartbeat_interval") }
            event = .hello(heartbeatIntervalMilliseconds: Int(interval))
        case VoiceOpcode.ready:
            let ssrc = try need("ssrc", integer(d["ssrc"]).flatMap { UInt32(exactly: $0) })
            let ip = try need("ip", d["ip"] as? String)
            let port = try need("port", integer(d["port"]).flatMap { UInt16(exactly: $0) })
            let modes = try need("modes", d["modes"] as? [String])
            event = .ready(ssrc: ssrc, ip: ip, port: port, modes: modes)
        case VoiceOpcode.sessionDescription:
            let mode = try need("mode", d["mode"] as? String)
            let raw = try need("secret_key", d["secret_key"] as? [Any])
            let key = raw.compactMap { integer($0).flatMap { UInt8(exactly: $0) } }
            guard key.count == 32, raw.count == 32 else { throw .badField(op: op, field: "secret_key") }
            let dave = integer(d["dave_protocol_version"]).flatMap { UInt16(exactly: $0) } ?? 0
            event = .sessionDescription(mode: mode, secretKey: key, daveProtocolVersion: dave)
        case VoiceOpcode.speaking:
            let user = try need("user_id", snowflake(d["user_id"]))
            let ssrc = try need("ssrc", integer(d["ssrc"]).flatMap { UInt32(exactly: $0) })
            event = .speaking(userID: user, ssrc: ssrc, flags: integer(d["speaking"]) ?? 0)
        case VoiceOpcode.heartbeatAck:
            event = .heartbeatAck
        case VoiceOpcode.resumed:
            event = .resumed
        case VoiceOpcode.clientsConnect:
            let ids = try need("user_ids", d["user_ids"] as? [Any])
            event = .clientsConnected(ids.compactMap(snowflake))
        case VoiceOpcode.clientDisconnect:
            event = .clientDisconnected(try need("user_id", snowflake(d["user_id"])))
        case VoiceOpcode.davePrepareTransition:
            event = .davePrepareTransition(
                DAVEPrepareTransition(
                    protocolVersion: try need("protocol_version", u16(d["protocol_version"])),
                    transitionID: try need("transition_id", u16(d["transition_id"]))))
        case VoiceOpcode.daveExecuteTransition:
            event = .daveExecuteTransition(
                DAVEExecuteTransition(
                    transitionID: try need("transition_id", u16(d["transition_id"]))))
        case VoiceOpcode.davePrepareEpoch:
            event = .davePrepareEpoch(
                DAVEPrepareEpoch(
                    protocolVersion: try need("protocol_version", u16(d["protocol_version"])),
                    epoch: try need("epoch", integer(d["epoch"]).flatMap { UInt64(exactly: $0) }),
                    transitionID: try need("transition_id", u16(d["transition_id"]) ?? 0)))
        default:
            event = nil
        }
        return Decoded(event: event, seq: seq)
    }

    /// Decodes one binary frame: `u16 seq | u8 op | payload`. Unknown binary ops decode to no event.
    public static func decode(binary: [UInt8]) throws(VoiceGatewayMessageError) -> Decoded {
        guard binary.count >= 3 else { throw .shortBinary(binary.count) }
        let seq = Int(binary[0]) << 8 | Int(binary[1])
        let op = binary[2]
        switch Int(op) {
        case VoiceOpcode.mlsExternalSender, VoiceOpcode.mlsProposals, VoiceOpcode.mlsAnnounceCommitTransition,
            VoiceOpcode.mlsWelcome:
            return Decoded(event: .daveBinary(opcode: op, payload: Array(binary[3...])), seq: seq)
        default:
            return Decoded(event: nil, seq: seq)
        }
    }

    // MARK: Encoding

    /// Op 0 Identify, offering DAVE protocol version 1.
    public static func identify(_ info: VoiceServerInfo, maxDAVEVersion: Int = 1) -> [UInt8] {
        json(
            VoiceOpcode.identify,
            [
                "server_id": info.guildID.description, "user_id": info.userID.description,
                "session_id": info.sessionID, "token": info.token, "max_dave_protocol_version": maxDAVEVersion,
            ])
    }

    /// Op 7 Resume.
    public static func resume(_ info: VoiceServerInfo, seqAck: Int) -> [UInt8] {
        json(
            VoiceOpcode.resume,
            [
                "server_id": info.guildID.description, "session_id": info.sessionID, "token": info.token,
                "seq_ack": seqAck,
            ])
    }

    /// Op 3 Heartbeat: `t` a JSON integer nonce, `seq_ack` the last seq seen (-1 before any).
    public static func heartbeat(nonce: Int, seqAck: Int) -> [UInt8] {
        json(VoiceOpcode.heartbeat, ["t": nonce, "seq_ack": seqAck])
    }

    /// Op 1 Select Protocol.
    public static func selectProtocol(address: String, port: UInt16, mode: TransportMode) -> [UInt8] {
        json(
            VoiceOpcode.selectProtocol,
            [
                "protocol": "udp", "data": ["address": address, "port": Int(port), "mode": mode.rawValue],
            ])
    }

    /// Op 5 Speaking (flag 1 = microphone, 0 = off).
    public static func speaking(_ flags: Int, ssrc: UInt32) -> [UInt8] {
        json(VoiceOpcode.speaking, ["speaking": flags, "delay": 0, "ssrc": Int(ssrc)])
    }

    /// A DAVE message from `DAVESession`: JSON for ops 23/31, binary `u8 op | payload` for ops 26/28.
    public static func dave(_ message: DAVEClientMessage) -> VoiceGatewayFrame {
        switch message {
        case .keyPackage(let bytes), .commitWelcome(let bytes):
            return .binary([message.opcode] + bytes)
        case .readyForTransition(let id), .invalidCommitWelcome(let id):
            return .text(json(Int(message.opcode), ["transition_id": Int(id)]))
        }
    }

    static func json(_ op: Int, _ d: [String: Any]) -> [UInt8] {
        // Only strings, integers, arrays and dictionaries of them go in: serialization cannot fail.
        let data = (try? JSONSerialization.data(withJSONObject: ["op": op, "d": d], options: [.sortedKeys])) ?? Data()
        return Array(data)
    }

    // MARK: Field helpers

    static func integer(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 9.007_199_254_740_992e15 else { return nil }
        return number.intValue
    }

    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    static func u16(_ value: Any?) -> UInt16? { integer(value).flatMap { UInt16(exactly: $0) } }

    static func snowflake(_ value: Any?) -> UInt64? {
        if let string = value as? String { return UInt64(string) }
        return integer(value).flatMap { UInt64(exactly: $0) }
    }
}

/// One WebSocket frame to send.
public enum VoiceGatewayFrame: Equatable, Sendable {
    case text([UInt8])
    case binary([UInt8])
}
