import DiscordSimulator
import Foundation
import XCTest

@testable import Discord

/// Slash command registration sends the application command fields Discord documents, and the simulator checks
/// and stores them as Discord does.
final class SlashCommandRegistrationTests: XCTestCase {
    private let commands = [
        ApplicationCommand(
            name: "prompt", description: "Set the text prompt",
            options: [.init(name: "text", description: "What the AI should be", required: true, maxLength: 1000)],
            contexts: [ApplicationCommand.Context.guild],
            integrationTypes: [ApplicationCommand.IntegrationType.guildInstall]),
        ApplicationCommand(
            name: "help", description: "What the bot does", contexts: [ApplicationCommand.Context.guild],
            integrationTypes: [ApplicationCommand.IntegrationType.guildInstall]),
    ]

    func testGlobalRegistrationCarriesMaxLengthContextsAndIntegrationTypes() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let app = Snowflake(harness.simulator.applicationID)
        try await client.rest.overwriteCommands(applicationID: app, guildID: nil, commands: commands)
        let stored = harness.simulator.registeredCommands(scope: "global")
        XCTAssertEqual(stored.map(\.name), ["prompt", "help"])
        XCTAssertEqual(stored[0].options.first?.maxLength, 1000)
        XCTAssertEqual(stored[0].options.first?.required, true)
        XCTAssertEqual(stored.map(\.contexts), [[0], [0]])
        XCTAssertEqual(stored.map(\.integrationTypes), [[0], [0]])
        let body = try XCTUnwrap(harness.simulator.recordedRequests.last { $0.method == "PUT" }?.body)
        XCTAssertTrue(body.contains(#""max_length":1000"#), body)
        XCTAssertTrue(body.contains(#""integration_types":[0]"#), body)
        await client.shutdown()
    }

    func testGuildRegistrationLeavesOutTheGlobalOnlyFields() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        try await client.rest.overwriteCommands(
            applicationID: Snowflake(harness.simulator.applicationID), guildID: Snowflake(guild.id),
            commands: commands)
        let stored = harness.simulator.registeredCommands(scope: String(guild.id))
        XCTAssertEqual(stored.map(\.name), ["prompt", "help"])
        XCTAssertEqual(stored[0].options.first?.maxLength, 1000, "max_length applies to guild commands too")
        XCTAssertEqual(stored.map(\.contexts), [nil, nil])
        XCTAssertEqual(stored.map(\.integrationTypes), [nil, nil])
        await client.shutdown()
    }

    func testDiscordsClientEnforcesMaxLengthAndRequiredOptions() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        try await client.rest.overwriteCommands(
            applicationID: Snowflake(harness.simulator.applicationID), guildID: nil, commands: commands)
        let sim = harness.simulator
        let user = guild.humanIDs[0]
        let channel = guild.textChannelID
        XCTAssertNotEqual(
            sim.userInvokesCommand(
                userID: user, channelID: channel, name: "prompt",
                options: ["text": String(repeating: "a", count: 1000)]), 0)
        XCTAssertEqual(
            sim.userInvokesCommand(
                userID: user, channelID: channel, name: "prompt",
                options: ["text": String(repeating: "a", count: 1001)]), 0, "over max_length: never sent")
        XCTAssertEqual(sim.userInvokesCommand(userID: user, channelID: channel, name: "prompt"), 0, "required")
        await client.shutdown()
    }

    func testSimulatorRefusesFieldsOutsideDiscordsRanges() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let app = Snowflake(harness.simulator.applicationID)
        let invalid: [(ApplicationCommand, String)] = [
            (
                ApplicationCommand(
                    name: "prompt", description: "x",
                    options: [.init(name: "text", description: "x", maxLength: 6001)]), "max_length"
            ),
            (
                ApplicationCommand(
                    name: "count", description: "x",
                    options: [.init(type: 4, name: "n", description: "x", maxLength: 10)]), "max_length"
            ),
            (ApplicationCommand(name: "help", description: "x", contexts: [3]), "contexts"),
            (ApplicationCommand(name: "help", description: "x", integrationTypes: [2]), "integration_types"),
            (ApplicationCommand(name: "Help", description: "x"), "name"),
        ]
        for (command, field) in invalid {
            do {
                try await client.rest.overwriteCommands(applicationID: app, guildID: nil, commands: [command])
                XCTFail("accepted an invalid \(field)")
            } catch let error as DiscordError {
                guard case let .httpStatus(_, status, message) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(status, 400)
                XCTAssertTrue(message.contains("50035"), message)
            }
        }
        XCTAssertEqual(harness.simulator.registeredCommands(scope: "global"), [])
        await client.shutdown()
    }
}
