import Bot
import Discord
import Foundation
import PersonaPlex
import Synchronization
import XCTest

/// An in-process stand-in for the Discord transport (unit tests only; the end-to-end tests use the simulator).
final class RecordingTransport: BotTransport {
    enum Call: Equatable {
        case send(channel: Snowflake, content: String)
        case respond(interaction: Snowflake, content: String, ephemeral: Bool)
        case deferResponse(interaction: Snowflake, ephemeral: Bool)
        case followUp(interaction: Snowflake, content: String, ephemeral: Bool)
        case register(count: Int, guild: Snowflake?)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let log = Mutex<[Call]>([])
    let voice = RecordingVoiceControl()
    /// When set, `send` throws this (a REST fault).
    let sendFailure = Mutex<Failure?>(nil)
    /// Delay before `respond`/`followUp` record (to exercise deferral).
    var voiceControl: any VoiceChannelControl { voice }

    var calls: [Call] { log.withLock { $0 } }
    var sent: [(channel: Snowflake, content: String)] {
        calls.compactMap { if case let .send(channel, content) = $0 { return (channel, content) } else { return nil } }
    }
    func sent(to channel: Snowflake) -> [String] { sent.filter { $0.channel == channel }.map(\.content) }
    var interactionReplies: [(content: String, ephemeral: Bool)] {
        calls.compactMap {
            switch $0 {
            case let .respond(_, content, ephemeral), let .followUp(_, content, ephemeral): return (content, ephemeral)
            default: return nil
            }
        }
    }
    func clear() {
        log.withLock { $0.removeAll() }
        voice.clear()
    }

    func send(_ content: String, to channelID: Snowflake) async throws {
        if let failure = sendFailure.withLock({ $0 }) { throw failure }
        log.withLock { $0.append(.send(channel: channelID, content: content)) }
    }

    func respond(to interaction: InteractionHandle, with content: String, ephemeral: Bool) async throws {
        log.withLock { $0.append(.respond(interaction: interaction.id, content: content, ephemeral: ephemeral)) }
    }

    func deferResponse(to interaction: InteractionHandle, ephemeral: Bool) async throws {
        log.withLock { $0.append(.deferResponse(interaction: interaction.id, ephemeral: ephemeral)) }
    }

    func followUp(to interaction: InteractionHandle, with content: String, ephemeral: Bool) async throws {
        log.withLock { $0.append(.followUp(interaction: interaction.id, content: content, ephemeral: ephemeral)) }
    }

    func registerCommands(_ commands: [SlashCommand], guildID: Snowflake?) async throws {
        log.withLock { $0.append(.register(count: commands.count, guild: guildID)) }
    }
}

/// Records op 4 requests.
final class RecordingVoiceControl: VoiceChannelControl {
    struct Update: Equatable {
        var guild: Snowflake
        var channel: Snowflake?
    }

    private let log = Mutex<[Update]>([])
    let failure = Mutex<String?>(nil)
    /// How long a join takes (Discord's updates arriving), to exercise stops that overlap a join.
    let joinDelay = Mutex<Duration>(.zero)
    var updates: [Update] { log.withLock { $0 } }
    func clear() { log.withLock { $0.removeAll() } }

    func updateVoiceState(guildID: Snowflake, channelID: Snowflake?, selfMute: Bool, selfDeaf: Bool) async throws {
        if let message = failure.withLock({ $0 }) { throw RecordingTransport.Failure(description: message) }
        log.withLock { $0.append(Update(guild: guildID, channel: channelID)) }
        if channelID != nil { try await Task.sleep(for: joinDelay.withLock { $0 }) }
    }
}

/// A session service double: records starts and stops; a backend can be made to fail; a running session can be
/// ended "by itself" through the `onEnd` it was given.
final class RecordingSessions: VoiceSessionService {
    struct Running {
        var request: VoiceSessionRequest
        var onEnd: @Sendable (VoiceSessionEnd) async -> Void
    }

    private let state = Mutex<
        (
            running: [VoiceSessionID: Running], started: [VoiceSessionRequest],
            stopped: [VoiceSessionID]
        )
    >(([:], [], []))
    /// backend index → the problem its start throws.
    let failures = Mutex<[Int: VoiceSessionProblem]>([:])
    let code = Mutex<String?>(nil)
    /// How long `privacyCode` takes (a slow voice layer, to exercise deferred interaction answers).
    let privacyDelay = Mutex<Duration>(.zero)

    var started: [VoiceSessionRequest] { state.withLock { $0.started } }
    var stopped: [VoiceSessionID] { state.withLock { $0.stopped } }
    var running: [VoiceSessionRequest] { state.withLock { Array($0.running.values.map(\.request)) } }

    func start(
        _ request: VoiceSessionRequest,
        onEnd: @escaping @Sendable (VoiceSessionEnd) async -> Void
    ) async throws(VoiceSessionProblem) {
        if let problem = failures.withLock({ $0[request.backendIndex] }) { throw problem }
        state.withLock {
            $0.started.append(request)
            $0.running[request.id] = Running(request: request, onEnd: onEnd)
        }
    }

    func stop(_ sessionID: VoiceSessionID) async {
        state.withLock {
            $0.stopped.append(sessionID)
            $0.running[sessionID] = nil
        }
    }

    func privacyCode(guildID: Snowflake) async -> String? {
        try? await Task.sleep(for: privacyDelay.withLock { $0 })
        return code.withLock { $0 }
    }

    /// Ends the running session in `guild` as if the audio layer noticed `problem`.
    func endByItself(guild: Snowflake, problem: VoiceSessionProblem) async {
        let running = state.withLock { s -> Running? in
            guard let entry = s.running.first(where: { $0.value.request.guildID == guild }) else { return nil }
            s.running[entry.key] = nil
            return entry.value
        }
        guard let running else { return XCTFail("no session in guild \(guild)") }
        await running.onEnd(VoiceSessionEnd(id: running.request.id, problem: problem))
    }
}

/// Ids and people for the scenarios.
enum Fixture {
    static let botID = Snowflake(999)
    static let canaryToken = "MTIzNDU2Nzg5MDEyMzQ1Njc4.CANARY.c4n4ry-t0k3n-n3v3r-l0gg3d_xyz"
    static let alice = BotUser(id: Snowflake(101), name: "Alice")
    static let bob = BotUser(id: Snowflake(102), name: "Bob")
    static let carol = BotUser(id: Snowflake(103), name: "Carol")
    static let dave = BotUser(id: Snowflake(104), name: "Dave")
    static let otherBot = BotUser(id: Snowflake(150), name: "MusicBot", isBot: true)
    static let me = BotUser(id: botID, name: "PlexBot", isBot: true)

    static let guildA = Snowflake(1), guildB = Snowflake(2), guildC = Snowflake(3)
    static let voiceA1 = Snowflake(11), voiceA2 = Snowflake(12), textA = Snowflake(19)
    static let voiceB1 = Snowflake(21), textB = Snowflake(29)
    static let voiceC1 = Snowflake(31)

    static func guild(_ id: Snowflake, _ name: String, voiceStates: [VoiceStateChange] = []) -> GuildSnapshot {
        GuildSnapshot(
            id: id, name: name,
            channelNames: [
                voiceA1: "General", voiceA2: "Gaming", textA: "chat", voiceB1: "Lounge", textB: "talk",
                voiceC1: "Studio",
            ], voiceStates: voiceStates)
    }

    static func voice(_ user: BotUser, _ guild: Snowflake, _ channel: Snowflake?) -> BotEvent {
        .voiceStateChanged(VoiceStateChange(guildID: guild, user: user, channelID: channel))
    }

    static func message(
        _ user: BotUser, _ content: String, guild: Snowflake = guildA, channel: Snowflake = textA,
        id: UInt64 = 5000
    ) -> BotEvent {
        .messageCreated(
            ChatMessage(
                id: Snowflake(id), guildID: guild, channelID: channel, author: user,
                content: content))
    }

    static func slash(
        _ user: BotUser, _ name: String, _ options: [String: String] = [:], guild: Snowflake = guildA,
        id: UInt64 = 7000
    ) -> BotEvent {
        .interactionCreated(
            CommandInteraction(
                handle: InteractionHandle(id: Snowflake(id), applicationID: Snowflake(998)),
                guildID: guild, channelID: textA, user: user, name: name, options: options))
    }

    static func backends(_ count: Int) -> [PersonaPlexEndpoint] {
        (0..<count).map { PersonaPlexEndpoint(secure: false, host: "127.0.0.1", port: 18_000 + $0) }
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "bot-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
