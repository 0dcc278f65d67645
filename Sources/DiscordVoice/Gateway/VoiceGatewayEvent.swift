import DAVE

/// What the voice gateway told us, decoded (one per received message that matters).
public enum VoiceGatewayEvent: Equatable {
    /// Op 8: heartbeats start.
    case hello(heartbeatIntervalMilliseconds: Int)
    /// Op 2: our SSRC and the UDP endpoint for IP discovery.
    case ready(ssrc: UInt32, ip: String, port: UInt16, modes: [String])
    /// Op 4: the chosen mode, the 32-byte transport key, and the call's DAVE protocol version.
    case sessionDescription(mode: String, secretKey: [UInt8], daveProtocolVersion: UInt16)
    /// Op 5 from the server: `userID` sends on `ssrc`.
    case speaking(userID: UInt64, ssrc: UInt32, flags: Int)
    /// Op 6.
    case heartbeatAck
    /// Op 9: a Resume was accepted.
    case resumed
    /// Op 11: users in the call.
    case clientsConnected([UInt64])
    /// Op 13: a user left.
    case clientDisconnected(UInt64)
    /// Op 21.
    case davePrepareTransition(DAVEPrepareTransition)
    /// Op 22.
    case daveExecuteTransition(DAVEExecuteTransition)
    /// Op 24.
    case davePrepareEpoch(DAVEPrepareEpoch)
    /// Binary ops 25, 27, 29, 30: `payload` after the seq and opcode.
    case daveBinary(opcode: UInt8, payload: [UInt8])
}

/// Why a voice gateway message was refused (the connection logs it and carries on; it never crashes).
public enum VoiceGatewayMessageError: Error, Equatable, CustomStringConvertible {
    /// Not a JSON object with an integer `op`.
    case notAnObject
    /// A known op whose `d` lacks a field or has the wrong type.
    case badField(op: Int, field: String)
    /// A binary frame shorter than its seq and opcode.
    case shortBinary(Int)

    public var description: String {
        switch self {
        case .notAnObject: return "voice gateway message is not a JSON object with an integer op"
        case .badField(let op, let field): return "voice gateway op \(op): missing or invalid `\(field)`"
        case .shortBinary(let n): return "voice gateway binary frame of \(n) bytes is too short"
        }
    }
}
