import DAVE
import Discord
import NIOCore
import NIOPosix
import NIOSSL
import Realtime

/// One bot's voice connection in one guild: voice gateway v8, voice UDP, DAVE (discord.md §3–§5, dave.md).
///
/// The main gateway hands it voice server info (`VoiceServerUpdates`); it asks the main gateway for a full rejoin
/// through `VoiceChannelControl`. Received Opus frames per speaker go to `received` and Opus to send comes from
/// `outgoing` — both `RealtimeRing`s, so the tick thread never waits on the network. Everything else (WebSocket,
/// UDP, DAVE, pacing) runs on one event loop, which makes DAVE state safe without locks.
public final class VoiceConnection: VoiceServerUpdates, @unchecked Sendable {
    // @unchecked: all mutable state is confined to `eventLoop` (each entry point hops there or asserts it).

    public let eventLoop: EventLoop
    /// Frames and speaker events for the tick thread.
    public let received: VoiceReceiveQueue
    /// Opus frames from the tick thread, sent one per 20 ms.
    public let outgoing: VoiceSendQueue
    let configuration: VoiceConnectionConfiguration
    let control: (any VoiceChannelControl)?
    let clock: any Realtime.MonotonicClock
    let log: @Sendable (String) -> Void
    let tlsContext: NIOSSLContext?

    // Gateway.
    var info: VoiceServerInfo?
    var session: VoiceGatewaySession?
    var socket: VoiceWebSocket?
    var heartbeatTask: Scheduled<Void>?
    var phase: VoiceConnectionPhase = .waitingForServer
    var resumesInARow = 0
    var rejoinsInARow = 0
    var payloadBugRejoins = 0
    var totalResumes = 0
    var totalRejoins = 0
    var closingForResume = false

    // UDP.
    var udp: Channel?
    var udpRemote: SocketAddress?
    var discoveryTask: RepeatedTask?
    var discoveryAttempts = 0
    var keepaliveTask: RepeatedTask?
    var keepaliveCounter: UInt32 = 0
    var livenessTask: RepeatedTask?
    var opener: VoicePacketOpener?
    var sealer: VoicePacketSealer?
    var sendBuffer: ByteBuffer
    var mode: TransportMode?

    // Media.
    var e2ee: VoiceE2EE?
    var speakers = SpeakerTable()
    var pacer: VoiceSendPacer?
    var pacerTask: Scheduled<Void>?
    var sendCounters = VoiceSendPacer.Counters()
    /// Frames dropped because DAVE had no sender key (alone in the call, or before the first transition).
    var unkeyedFrames = 0

    /// - Parameters:
    ///   - control: the main gateway, for full rejoins (4006/4009/4011); without it those stop the connection.
    ///   - log: diagnostics (never given the token).
    public init(
        eventLoop: EventLoop, control: (any VoiceChannelControl)?,
        configuration: VoiceConnectionConfiguration = VoiceConnectionConfiguration(),
        clock: any Realtime.MonotonicClock = SystemClock.shared,
        receiveCapacity: Int = 256,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.eventLoop = eventLoop
        self.control = control
        self.configuration = configuration
        self.clock = clock
        self.log = log
        received = VoiceReceiveQueue(capacity: receiveCapacity)
        outgoing = VoiceSendQueue()
        tlsContext = configuration.secure ? try NIOSSLContext(configuration: configuration.tls) : nil
        sendBuffer = ByteBufferAllocator().buffer(capacity: 2048)
    }

    // MARK: - VoiceServerUpdates

    public func voiceServerReady(_ info: VoiceServerInfo) async {
        try? await eventLoop.submit { self.start(info) }.get()
    }

    public func voiceDisconnected(guildID: Snowflake, serverGone: Bool) async {
        try? await eventLoop.submit {
            guard self.info?.guildID == guildID else { return }
            if case .stopped = self.phase { return }
            self.log("voice: \(serverGone ? "voice server gone" : "disconnected from the channel"); waiting")
            self.tearDown()
            self.phase = .waitingForServer
        }.get()
    }

    /// Closes everything; the connection stays stopped.
    public func close() async {
        try? await eventLoop.submit { self.stop(.closedByUs) }.get()
    }

    /// A snapshot of the connection.
    public func status() async -> VoiceConnectionStatus? {
        try? await eventLoop.submit { self.makeStatus() }.get()
    }

    /// The voice privacy code (for the bot's `privacy` command), once in a DAVE group.
    public func privacyCode() async -> String? {
        try? await eventLoop.submit { self.e2ee?.privacyCode }.get() ?? nil
    }

    func makeStatus() -> VoiceConnectionStatus {
        eventLoop.assertInEventLoop()
        return VoiceConnectionStatus(
            phase: phase, ssrc: session?.ready?.ssrc, mode: mode,
            daveProtocolVersion: e2ee?.protocolVersion ?? 0, privacyCode: e2ee?.privacyCode,
            epoch: e2ee?.session.epoch, receive: opener?.counters ?? VoiceReceiveCounters(),
            send: pacer?.counters ?? sendCounters, dave: e2ee?.counters ?? [:],
            daveSelfHealings: e2ee?.selfHealings ?? 0, receiveRingDrops: received.frames.dropped,
            unkeyedFrames: unkeyedFrames, resumes: totalResumes, rejoins: totalRejoins,
            pacingLatenessP99: pacer?.latenessPercentile(0.99) ?? 0)
    }

    // MARK: - Lifecycle

    /// A new voice server or session: everything starts over with Identify.
    func start(_ newInfo: VoiceServerInfo) {
        eventLoop.assertInEventLoop()
        if case .stopped(let reason) = phase, reason != .closedByUs {
            log("voice: not reconnecting after: \(reason)")
            return
        }
        if phase == .rejoining { rejoinsInARow += 1 } else { rejoinsInARow = 0 }
        tearDown()
        info = newInfo
        session = VoiceGatewaySession(info: newInfo)
        e2ee = VoiceE2EE(selfUserID: newInfo.userID.rawValue, channelID: newInfo.channelID.rawValue, clock: clock)
        resumesInARow = 0
        openSocket()
    }

    func openSocket() {
        eventLoop.assertInEventLoop()
        guard let info else { return }
        guard let endpoint = VoiceEndpoint(endpoint: info.endpoint, secure: configuration.secure) else {
            log("voice: \(VoiceConnectionError.badEndpoint(info.endpoint))")
            return stop(.retriesExhausted(lastCode: nil))
        }
        phase = .connecting
        let socket = VoiceWebSocket(eventLoop: eventLoop, delegate: self)
        self.socket = socket
        socket.connect(to: endpoint, tls: tlsContext)
    }

    /// Closes the socket and UDP and forgets the media session (not `info`).
    func tearDown() {
        eventLoop.assertInEventLoop()
        if let socket {
            self.socket = nil
            socket.close(code: 1000)
        }
        heartbeatTask?.cancel()
        heartbeatTask = nil
        closeUDP()
        session?.reset()
        speakers.removeAll()
    }

    func stop(_ reason: VoiceStopReason) {
        eventLoop.assertInEventLoop()
        if case .stopped = phase { return }
        log("voice: stopped: \(reason)")
        tearDown()
        phase = .stopped(reason)
    }
}
