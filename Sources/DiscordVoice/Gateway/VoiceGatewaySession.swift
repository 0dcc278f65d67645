import Discord

/// The voice gateway v8 protocol for one voice session, without I/O (discord.md §3): what to send after the socket
/// opens (Identify, or Resume when a session exists), heartbeats on a virtual clock with `seq_ack`, the last seq of
/// either frame kind, Select Protocol once IP discovery is done, and zombie detection. The owner feeds it frames
/// and the time and performs the frames it returns; tests drive it with plain numbers.
public struct VoiceGatewaySession {
    /// Where the session is.
    public enum Phase: Equatable, Sendable {
        /// No socket.
        case disconnected
        /// Identify sent; waiting for Ready.
        case identifying
        /// Resume sent; waiting for Resumed.
        case resuming
        /// Ready received (SSRC known); IP discovery under way.
        case discovering
        /// Select Protocol sent; waiting for Session Description.
        case selecting
        /// Session Description received: audio may flow.
        case established
    }

    public private(set) var info: VoiceServerInfo
    public private(set) var phase: Phase = .disconnected
    /// Last seq seen in a JSON `seq` or a binary frame's header; -1 before any (sent as `seq_ack`).
    public private(set) var lastSeq = -1
    /// Heartbeat interval from Hello, in nanoseconds (0 before Hello).
    public private(set) var heartbeatInterval: UInt64 = 0
    /// When the next heartbeat is due (`UInt64.max` before Hello).
    public private(set) var nextHeartbeat: UInt64 = .max
    /// Heartbeats sent and not yet acknowledged.
    public private(set) var unacknowledgedHeartbeats = 0
    /// Our SSRC and the voice server's UDP endpoint, from Ready (kept across resumes).
    public private(set) var ready: (ssrc: UInt32, ip: String, port: UInt16, modes: [String])?
    /// Set once Session Description arrived (kept across resumes: the UDP session survives them).
    public private(set) var sessionDescription: (mode: TransportMode, key: [UInt8], daveVersion: UInt16)?
    /// Heartbeats allowed to go unanswered before the connection is declared dead.
    public var zombieThreshold = 3

    public init(info: VoiceServerInfo) { self.info = info }

    /// The socket opened: Resume when this session already reached Ready, else Identify.
    public mutating func socketOpened(now: UInt64) -> [VoiceGatewayFrame] {
        unacknowledgedHeartbeats = 0
        nextHeartbeat = .max
        heartbeatInterval = 0
        if ready != nil {
            phase = .resuming
            return [.text(VoiceGatewayCodec.resume(info, seqAck: lastSeq))]
        }
        phase = .identifying
        return [.text(VoiceGatewayCodec.identify(info))]
    }

    /// The socket closed. Ready and Session Description survive for a Resume.
    public mutating func socketClosed() {
        phase = .disconnected
        nextHeartbeat = .max
    }

    /// Forget the session (before a rejoin or a new VOICE_SERVER_UPDATE): the next open Identifies.
    public mutating func reset(info newInfo: VoiceServerInfo? = nil) {
        if let newInfo { info = newInfo }
        phase = .disconnected
        lastSeq = -1
        ready = nil
        sessionDescription = nil
        nextHeartbeat = .max
        unacknowledgedHeartbeats = 0
    }

    /// Applies a decoded message; returns frames to send now (none for most).
    public mutating func receive(_ decoded: VoiceGatewayCodec.Decoded, now: UInt64) -> [VoiceGatewayFrame] {
        if let seq = decoded.seq { lastSeq = seq }
        guard let event = decoded.event else { return [] }
        switch event {
        case .hello(let milliseconds):
            heartbeatInterval = UInt64(milliseconds) * 1_000_000
            // discord.js beats at the interval; the first one comes one interval after Hello.
            nextHeartbeat = now &+ heartbeatInterval
        case .ready(let ssrc, let ip, let port, let modes):
            ready = (ssrc, ip, port, modes)
            phase = .discovering
        case .sessionDescription(let modeName, let key, let dave):
            if let mode = TransportMode(rawValue: modeName) {
                sessionDescription = (mode, key, dave)
                phase = .established
            }
        case .heartbeatAck:
            unacknowledgedHeartbeats = 0
        case .resumed:
            phase = sessionDescription == nil ? (ready == nil ? .identifying : .discovering) : .established
        default:
            break
        }
        return []
    }

    /// IP discovery finished: Select Protocol with the mode we prefer among Ready's. `nil` when none is usable.
    public mutating func discovered(address: String, port: UInt16) -> (frame: VoiceGatewayFrame, mode: TransportMode)? {
        guard let ready, let mode = TransportMode.choose(offered: ready.modes) else { return nil }
        phase = .selecting
        return (.text(VoiceGatewayCodec.selectProtocol(address: address, port: port, mode: mode)), mode)
    }

    /// What the clock requires: a heartbeat when due, or `.zombie` when too many went unanswered.
    public enum Due: Equatable {
        case nothing
        case send(VoiceGatewayFrame)
        case zombie
    }

    /// Call at (or after) `nextHeartbeat`. `nonce` is the heartbeat's `t` (milliseconds of wall or monotonic time).
    public mutating func tick(now: UInt64, nonce: Int) -> Due {
        guard heartbeatInterval > 0, now >= nextHeartbeat else { return .nothing }
        if unacknowledgedHeartbeats >= zombieThreshold { return .zombie }
        unacknowledgedHeartbeats += 1
        // Absolute schedule: a late tick does not push later beats back.
        nextHeartbeat = nextHeartbeat &+ heartbeatInterval
        if nextHeartbeat <= now { nextHeartbeat = now &+ heartbeatInterval }
        return .send(.text(VoiceGatewayCodec.heartbeat(nonce: nonce, seqAck: lastSeq)))
    }
}
