import DiscordVoice
import NIOCore

/// One user's voice session on the simulated voice server (kept across socket drops for Resume).
final class SimulatedVoiceMember {
    let userID: UInt64
    let sessionID: String
    let token: String
    let ssrc: UInt32
    var socket: Channel?
    /// Where the member's UDP packets come from (learned from IP discovery).
    var udpAddress: SocketAddress?
    var cipher: TransportCipher?
    var opener: VoicePacketOpener?
    var mode: TransportMode?
    /// Server → client seq of replayable messages, and what was sent (for Resume replay).
    var seq: UInt16 = 0
    var replay: [(seq: UInt16, frame: WebSocketFrameBody)] = []
    /// Nonce counter for packets relayed to this member.
    var nonce: UInt32 = 0
    var described = false
    /// Packets this member sent that the server relayed, and received from others.
    var relayedFrom = 0
    var heartbeats = 0

    init(userID: UInt64, sessionID: String, token: String, ssrc: UInt32) {
        self.userID = userID
        self.sessionID = sessionID
        self.token = token
        self.ssrc = ssrc
    }
}

/// A frame body the server sends (text JSON or binary).
enum WebSocketFrameBody {
    case text([UInt8])
    case binary([UInt8])
}
