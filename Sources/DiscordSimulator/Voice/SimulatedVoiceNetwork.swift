import Discord
import DiscordVoice
import NIOCore
import Synchronization

/// The simulator's voice side as Discord runs it: one voice server per voice channel, each accepting exactly the
/// sessions the main gateway handed out (op 4 → VOICE_STATE_UPDATE's session id + VOICE_SERVER_UPDATE's token),
/// and dropping a member who left the channel. Plug it into a `SimulatorConfiguration` with `install(into:)`,
/// start the servers with `start(channels:)`, and let scripted humans join with `connectHuman`.
public final class SimulatedVoiceNetwork: Sendable {
    private let group: any EventLoopGroup
    private let options: SimulatedVoiceOptions
    private let servers = Mutex<[UInt64: (server: SimulatedVoiceServer, endpoint: String)]>([:])
    /// Which channel each (guild, user) is in, so a leave reaches the right server.
    private let membership = Mutex<[String: UInt64]>([:])

    public init(group: any EventLoopGroup, options: SimulatedVoiceOptions = .discordLike) {
        self.group = group
        self.options = options
    }

    /// Points the configuration's voice endpoints and op 4 notifications at this network.
    public func install(into configuration: inout SimulatorConfiguration) {
        configuration.voiceEndpoint = { [self] _, channelID, _ in servers.withLock { $0[channelID]?.endpoint } }
        configuration.voiceStateChanged = { [self] guildID, userID, join in
            // Called under the simulator's state lock: only hand work to the voice servers' event loops. The task
            // is queued before the VOICE_SERVER_UPDATE goes out, so it runs before the member can identify.
            let key = "\(guildID)/\(userID)"
            let previous = membership.withLock { $0.removeValue(forKey: key) }
            if let previous, previous != join?.channelID, let server = server(previous) {
                server.eventLoop.execute { server.removeMember(userID) }
            }
            guard let join, let server = server(join.channelID) else { return }
            membership.withLock { $0[key] = join.channelID }
            server.grant(userID: userID, sessionID: join.sessionID, token: join.token)
        }
    }

    /// Starts a voice server for each channel (a channel without one gets a `null` endpoint, as in an outage).
    public func start(channels: [UInt64]) async throws {
        for channelID in channels where server(channelID) == nil {
            let server = try SimulatedVoiceServer(eventLoop: group.next(), channelID: channelID, options: options)
            let endpoint = try await server.start()
            servers.withLock { $0[channelID] = (server, endpoint) }
        }
    }

    /// The voice server of a channel.
    public func server(_ channelID: UInt64) -> SimulatedVoiceServer? { servers.withLock { $0[channelID]?.server } }

    /// A scripted human joins `channelID`: the gateway announces it, the channel's server accepts the human's
    /// session, and the returned connection (our voice stack, plain `ws`) is on its way into the call.
    public func connectHuman(_ simulator: DiscordSimulator, userID: UInt64, guildID: UInt64, channelID: UInt64)
        async throws -> VoiceConnection
    {
        guard let entry = servers.withLock({ $0[channelID] }) else {
            throw SimulatedVoiceNetworkError.noServer(channelID)
        }
        simulator.userJoinsVoice(userID: userID, guildID: guildID, channelID: channelID)
        let info = VoiceServerInfo(
            guildID: Snowflake(guildID), channelID: Snowflake(channelID), userID: Snowflake(userID),
            sessionID: "human-\(userID)", token: "token-\(userID)", endpoint: entry.endpoint)
        await entry.server.authorize(userID: userID, sessionID: info.sessionID, token: info.token)
        let connection = try VoiceConnection(
            eventLoop: group.next(), control: nil, configuration: VoiceConnectionConfiguration(secure: false))
        await connection.voiceServerReady(info)
        return connection
    }

    /// The human leaves: the gateway announces it, the server drops them (op 13 to the others), the connection
    /// closes.
    public func disconnectHuman(
        _ simulator: DiscordSimulator, _ connection: VoiceConnection, userID: UInt64, guildID: UInt64,
        channelID: UInt64
    ) async {
        simulator.userLeavesVoice(userID: userID, guildID: guildID)
        await server(channelID)?.disconnect(userID: userID)
        await connection.close()
    }

    /// Moves the channel's call to a new voice server, as Discord does (a region change, a server going down):
    /// every member is authorised there with a new token; bots get VOICE_SERVER_UPDATE through the gateway, and
    /// the scripted humans' connections (given with their user ids) are pointed at it directly. The old server
    /// then shuts down.
    public func moveServer(
        _ simulator: DiscordSimulator, guildID: UInt64, channelID: UInt64, bots: [UInt64],
        humans: [(userID: UInt64, connection: VoiceConnection)]
    ) async throws {
        guard let old = server(channelID) else { throw SimulatedVoiceNetworkError.noServer(channelID) }
        let server = try SimulatedVoiceServer(eventLoop: group.next(), channelID: channelID, options: options)
        let endpoint = try await server.start()
        servers.withLock { $0[channelID] = (server, endpoint) }
        for bot in bots {
            guard let sessionID = simulator.voiceSessionID(of: bot, guildID: guildID) else { continue }
            let token = "moved-\(UInt32.random(in: 0...UInt32.max))"
            await server.authorize(userID: bot, sessionID: sessionID, token: token)
            simulator.sendVoiceServerUpdate(guildID: guildID, userID: bot, token: token, endpoint: endpoint)
        }
        for (userID, connection) in humans {
            let info = VoiceServerInfo(
                guildID: Snowflake(guildID), channelID: Snowflake(channelID), userID: Snowflake(userID),
                sessionID: "human-\(userID)", token: "moved-token-\(userID)", endpoint: endpoint)
            await server.authorize(userID: userID, sessionID: info.sessionID, token: info.token)
            await connection.voiceServerReady(info)
        }
        await old.shutdown()
    }

    /// Closes every server.
    public func shutdown() async {
        for server in servers.withLock({ $0.values.map(\.server) }) { await server.shutdown() }
    }
}

public enum SimulatedVoiceNetworkError: Error, CustomStringConvertible {
    case noServer(UInt64)

    public var description: String {
        switch self {
        case .noServer(let channel): return "no simulated voice server for channel \(channel): start(channels:) it"
        }
    }
}
