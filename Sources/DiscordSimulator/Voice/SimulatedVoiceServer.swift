import DAVE
import DiscordVoice
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The Discord simulator's voice server (loopback only): voice gateway v8 over plain WebSocket and voice UDP, both
/// rtpsize AEAD modes, the DAVE external sender (`VoiceDAVECoordinator`), and a relay that re-encrypts each packet
/// per recipient as Discord does, optionally with Discord's packet shapes and injected faults.
///
/// Confined to one event loop; the public API hops there.
public final class SimulatedVoiceServer: @unchecked Sendable {
    // @unchecked: all mutable state lives on `eventLoop` (entry points hop there; handlers run there).

    public let eventLoop: EventLoop
    public let channelID: UInt64
    var options: SimulatedVoiceOptions
    let log: @Sendable (String) -> Void
    var tcp: Channel?
    var udp: Channel?
    /// Sessions the main gateway handed out: session id → (user, token).
    var authorized: [String: (userID: UInt64, token: String)] = [:]
    var members: [UInt64: SimulatedVoiceMember] = [:]
    var coordinator: VoiceDAVECoordinator!
    var nextSSRC: UInt32 = 1000
    var heldBack: (packet: [UInt8], to: SocketAddress)?
    var relayBuffer: [UInt8] = []
    /// Counters.
    var relayed = 0
    var faultsInjected = 0

    public init(
        eventLoop: EventLoop, channelID: UInt64, options: SimulatedVoiceOptions = SimulatedVoiceOptions(),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.eventLoop = eventLoop
        self.channelID = channelID
        self.options = options
        self.log = log
        coordinator = try VoiceDAVECoordinator(
            channelID: channelID,
            send: { [unowned self] user, message in self.sendDAVE(message, to: user) },
            log: log)
    }

    /// Binds the WebSocket and UDP ports on 127.0.0.1; returns the `host:port` endpoint for VOICE_SERVER_UPDATE.
    public func start() async throws -> String {
        let udp = try await DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SimulatedVoiceUDPHandler(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(head.uri.contains("v=8") ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64, maxAccumulatedFrameSize: 1 << 20))
                    try channel.pipeline.syncOperations.addHandler(SimulatedVoiceSocketHandler(server: self))
                }
            })
        let tcp = try await ServerBootstrap(group: eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        try await eventLoop.submit {
            self.udp = udp
            self.tcp = tcp
        }.get()
        return "127.0.0.1:\(tcp.localAddress?.port ?? 0)"
    }

    /// Stops listening and closes every socket.
    public func shutdown() async {
        let channels: [Channel] =
            (try? await eventLoop.submit {
                [self.tcp, self.udp].compactMap { $0 } + self.members.values.compactMap(\.socket)
            }.get()) ?? []
        for channel in channels { try? await channel.close() }
    }

    /// Accepts `sessionID` / `token` for `userID` (what the main gateway's VOICE_STATE/SERVER_UPDATE carried).
    public func authorize(userID: UInt64, sessionID: String, token: String) async {
        try? await eventLoop.submit { self.authorized[sessionID] = (userID, token) }.get()
    }

    /// `authorize` without waiting, for a synchronous caller such as `SimulatorConfiguration.voiceStateChanged`:
    /// the grant is queued on the event loop before the caller hands the session to its client, so it is in place
    /// before that client's Identify can arrive.
    public func grant(userID: UInt64, sessionID: String, token: String) {
        eventLoop.execute { self.authorized[sessionID] = (userID, token) }
    }

    /// Event loop only: the user left the channel (the main gateway's op 4 with no channel, or a move).
    func removeMember(_ userID: UInt64) {
        eventLoop.assertInEventLoop()
        let socket = members[userID]?.socket
        memberGone(userID)
        socket?.close(promise: nil)
    }

    /// Changes options (e.g. switch faults on) for packets relayed from now on.
    public func setOptions(_ update: @escaping @Sendable (inout SimulatedVoiceOptions) -> Void) async {
        try? await eventLoop.submit { update(&self.options) }.get()
    }

    /// Closes `userID`'s voice gateway socket with `code` (fault injection: 4006, 4014, 4015, 4017, …).
    public func close(userID: UInt64, code: UInt16) async {
        try? await eventLoop.submit {
            guard let socket = self.members[userID]?.socket else { return }
            var data = socket.allocator.buffer(capacity: 2)
            data.writeInteger(code)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
            socket.writeAndFlush(frame).whenComplete { _ in socket.close(promise: nil) }
            // 4015 and network-level codes leave the session resumable; every other 4xxx ends it.
            if code >= 4000, code != 4015 { self.memberGone(userID) }
        }.get()
    }

    /// `userID` left the channel (what the main gateway's op 4 with no channel causes): op 13 to the others, out of
    /// the DAVE group, socket closed.
    public func disconnect(userID: UInt64) async {
        try? await eventLoop.submit { self.removeMember(userID) }.get()
    }

    /// The next op 29 to `userID` is damaged (it must answer op 31 and be re-added).
    public func corruptNextCommit(for userID: UInt64) async {
        try? await eventLoop.submit { _ = self.coordinator.corruptNextCommit.insert(userID) }.get()
    }

    /// Downgrades the call to plain Opus (op 21 version 0, op 22 after every op 23).
    public func downgrade() async {
        try? await eventLoop.submit { self.coordinator.startDowngrade() }.get()
    }

    /// Upgrades the call back to DAVE (op 24 epoch 1 to every connected member; a new group forms).
    public func upgrade() async {
        try? await eventLoop.submit {
            self.coordinator.startUpgrade(members: self.members.values.filter { $0.described }.map(\.userID))
        }.get()
    }

    /// A snapshot for tests.
    public struct Snapshot: Sendable {
        public var connected: [UInt64]
        public var groupMembers: [UInt64]
        public var epoch: UInt64
        public var transitionsExecuted: Int
        /// Op 31 answers (invalid commit or Welcome) received.
        public var invalidCommitAnswers: Int
        public var relayed: Int
        public var faultsInjected: Int
    }

    public func snapshot() async -> Snapshot? {
        try? await eventLoop.submit {
            Snapshot(
                connected: self.members.values.filter { $0.socket != nil }.map(\.userID).sorted(),
                groupMembers: self.coordinator.groupMembers, epoch: self.coordinator.epoch,
                transitionsExecuted: self.coordinator.executed,
                invalidCommitAnswers: self.coordinator.invalidAnswers, relayed: self.relayed,
                faultsInjected: self.faultsInjected)
        }.get()
    }

    // MARK: - Sending to members

    func send(json op: Int, _ d: [String: Any]?, to member: SimulatedVoiceMember, replayable: Bool = true) {
        var object: [String: Any] = ["op": op, "d": d ?? NSNull()]
        if replayable {
            member.seq &+= 1
            object["seq"] = Int(member.seq)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return }
        let body = WebSocketFrameBody.text(Array(data))
        if replayable { remember(body, member) }
        write(body, to: member)
    }

    func send(binary op: UInt8, _ payload: [UInt8], to member: SimulatedVoiceMember) {
        member.seq &+= 1
        let body = WebSocketFrameBody.binary([UInt8(member.seq >> 8), UInt8(member.seq & 0xFF), op] + payload)
        remember(body, member)
        write(body, to: member)
    }

    private func remember(_ body: WebSocketFrameBody, _ member: SimulatedVoiceMember) {
        member.replay.append((member.seq, body))
        if member.replay.count > 256 { member.replay.removeFirst(member.replay.count - 256) }
    }

    func write(_ body: WebSocketFrameBody, to member: SimulatedVoiceMember) {
        guard let socket = member.socket else { return }
        let (opcode, bytes): (WebSocketOpcode, [UInt8]) =
            switch body {
            case .text(let b): (.text, b)
            case .binary(let b): (.binary, b)
            }
        socket.writeAndFlush(
            WebSocketFrame(fin: true, opcode: opcode, data: socket.allocator.buffer(bytes: bytes)),
            promise: nil)
    }

    private func sendDAVE(_ message: VoiceDAVECoordinator.Outbound, to userID: UInt64) {
        guard let member = members[userID] else { return }
        switch message {
        case .binary(let op, let payload): send(binary: op, payload, to: member)
        case .json(let op, let d): send(json: op, d, to: member)
        }
    }

    /// The user left the call: op 13 to the others, and out of the DAVE group.
    func memberGone(_ userID: UInt64) {
        guard let member = members.removeValue(forKey: userID) else { return }
        member.socket = nil
        for other in members.values { send(json: 13, ["user_id": String(userID)], to: other) }
        coordinator.memberLeft(userID)
    }
}
