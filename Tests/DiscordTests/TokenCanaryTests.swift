import Discord
import DiscordSimulator
import Foundation
import XCTest

/// The bot token never appears in any log line, error or event, across a session with faults.
final class TokenCanaryTests: XCTestCase {
    func testCanaryTokenNeverPrinted() async throws {
        let harness = try await Harness.start(self) { $0.heartbeatIntervalMillis = 150 }
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let voice = RecordingVoiceLayer()
        await client.setVoiceHandler(voice)
        let run = Task { try await client.run() }
        let sim = harness.simulator
        await eventually("READY") { events.count { $0.isReady } == 1 }
        let guild = try XCTUnwrap(sim.guilds.first)
        sim.dropGatewayConnections()
        await eventually("RESUMED") { events.count { $0.isResumed } == 1 }
        sim.withholdHeartbeatAcks(true)
        await eventually("zombie close") { sim.clientCloseCodes.contains { $0 != nil } }
        sim.withholdHeartbeatAcks(false)
        await eventually("RESUMED again") { events.count { $0.isResumed } == 2 }
        sim.sendInvalidSession(resumable: false)
        await eventually("re-identified", timeout: 20) { events.count { $0.isReady } == 2 }
        if events.count(where: { $0.isReady }) != 2 { print(harness.log.text.suffix(6000)) }
        try await client.updateVoiceState(guildID: Snowflake(guild.id), channelID: Snowflake(guild.voiceChannelIDs[0]))
        sim.inject429s(count: 1, global: true, retryAfter: 0.05)
        try await client.rest.sendMessage(channelID: Snowflake(guild.textChannelID), text: "status")
        var errors: [String] = []
        do { _ = try await client.rest.sendMessage(channelID: Snowflake(1), text: "no such channel") } catch {
            errors.append("\(error)")
            errors.append(String(reflecting: error))
        }
        sim.closeGateway(code: 4004)
        do { try await run.value } catch {
            errors.append("\(error)")
            errors.append(String(reflecting: error))
        }
        await client.shutdown()
        await harness.stop()
        let everything =
            harness.log.text + errors.joined() + events.all.map { String(reflecting: $0) }.joined()
            + "\(client.configuration)"
        XCTAssertGreaterThan(harness.log.all.count, 10, "the session logged")
        XCTAssertFalse(everything.contains(Harness.token))
        XCTAssertFalse(everything.contains("token-canary-do-not-print"))
        XCTAssertTrue(errors.contains { $0.contains("404") }, "\(errors)")
    }
}
