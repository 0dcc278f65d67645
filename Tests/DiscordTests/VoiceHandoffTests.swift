import Discord
import DiscordSimulator
import Synchronization
import XCTest

/// Records what the gateway hands to the voice layer.
final class RecordingVoiceLayer: VoiceServerUpdates {
    let ready = Mutex<[VoiceServerInfo]>([])
    let disconnected = Mutex<[(Snowflake, Bool)]>([])

    func voiceServerReady(_ info: VoiceServerInfo) async { ready.withLock { $0.append(info) } }
    func voiceDisconnected(guildID: Snowflake, serverGone: Bool) async {
        disconnected.withLock { $0.append((guildID, serverGone)) }
    }
}

final class VoiceHandoffTests: XCTestCase {
    private func joinMoveLeave(serverFirst: Bool) async throws {
        let harness = try await Harness.start(self) {
            $0.voiceServerFirst = serverFirst
            $0.voiceEndpoint = { _, channel, _ in "127.0.0.1:\(channel % 50_000 + 1)" }
        }
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let voice = RecordingVoiceLayer()
        await client.setVoiceHandler(voice)
        let run = Task { try await client.run() }
        await eventually("guilds") { events.count { $0.isGuildCreate } == 2 }
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        let guildID = Snowflake(guild.id)
        try await client.updateVoiceState(guildID: guildID, channelID: Snowflake(guild.voiceChannelIDs[0]))
        let first = try XCTUnwrap(voice.ready.withLock { $0.first })
        XCTAssertEqual(first.channelID, Snowflake(guild.voiceChannelIDs[0]))
        XCTAssertEqual(first.userID.rawValue, harness.simulator.botUserID)
        XCTAssertEqual(first.endpoint, "127.0.0.1:\(guild.voiceChannelIDs[0] % 50_000 + 1)")
        XCTAssertFalse(first.sessionID.isEmpty)
        XCTAssertFalse(first.description.contains(first.token), "the voice token is not printed")
        XCTAssertEqual(client.cache.ownVoiceChannel(in: guildID), Snowflake(guild.voiceChannelIDs[0]))
        // A move brings a new pair (new token).
        try await client.updateVoiceState(guildID: guildID, channelID: Snowflake(guild.voiceChannelIDs[1]))
        let moved = try XCTUnwrap(voice.ready.withLock { $0.last })
        XCTAssertEqual(voice.ready.withLock { $0.count }, 2)
        XCTAssertEqual(moved.channelID, Snowflake(guild.voiceChannelIDs[1]))
        XCTAssertNotEqual(moved.token, first.token)
        try await client.updateVoiceState(guildID: guildID, channelID: nil)
        XCTAssertEqual(voice.disconnected.withLock { $0.map(\.0) }, [guildID])
        XCTAssertNil(harness.simulator.voiceChannel(of: harness.simulator.botUserID, guildID: guild.id))
        let op4 = harness.simulator.receivedPayloads.filter { $0.op == 4 }
        XCTAssertEqual(op4.count, 3)
        XCTAssertEqual(op4.last?.summary["channel_id"], "<null>")
        run.cancel()
        _ = try? await run.value
        await client.shutdown()
        await harness.stop()
    }

    func testJoinMoveLeaveStateFirst() async throws { try await joinMoveLeave(serverFirst: false) }
    func testJoinMoveLeaveServerFirst() async throws { try await joinMoveLeave(serverFirst: true) }

    func testNullEndpointWaitsAndTimesOut() async throws {
        let harness = try await Harness.start(self) { $0.voiceEndpoint = { _, _, _ in nil } }
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let voice = RecordingVoiceLayer()
        await client.setVoiceHandler(voice)
        let run = Task { try await client.run() }
        await eventually("guilds") { events.count { $0.isGuildCreate } == 2 }
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        do {
            try await client.updateVoiceState(
                guildID: Snowflake(guild.id), channelID: Snowflake(guild.voiceChannelIDs[0]))
            XCTFail("joined without a voice server")
        } catch let error as DiscordError {
            XCTAssertEqual(error, .voiceTimeout(guild: Snowflake(guild.id)))
        }
        XCTAssertTrue(voice.ready.withLock { $0.isEmpty })
        XCTAssertEqual(voice.disconnected.withLock { $0.map(\.1) }, [true], "null endpoint = server gone, wait")
        run.cancel()
        _ = try? await run.value
        await client.shutdown()
        await harness.stop()
    }
}
