import Discord
import Foundation
import Logging
import XCTest

@testable import Bot

/// The adapter's mapping of gateway events to the bot's events (decoded from Discord's JSON, as the gateway does).
final class DiscordBotTransportTests: XCTestCase {
    var client: DiscordClient!
    var transport: DiscordBotTransport!

    override func setUp() async throws {
        let configuration = DiscordConfiguration(
            token: try DiscordToken(Fixture.canaryToken),
            apiBase: try DiscordURL(
                "http://127.0.0.1:9/api/v10",
                allowed: ["http"]))
        client = try DiscordClient(configuration: configuration, logger: Logger(label: "t"))
        transport = DiscordBotTransport(client: client)
    }

    override func tearDown() async throws {
        await client.shutdown()
    }

    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(json.utf8))
    }

    func testGuildCreateNamesChannelsAndTellsBotsFromHumans() throws {
        let guild = try decode(
            Guild.self,
            """
            {"id":"1","name":"Server A",
             "channels":[{"id":"11","type":2,"name":"General"},{"id":"19","type":0,"name":"chat"}],
             "members":[{"user":{"id":"101","username":"alice","global_name":"Alice"},"nick":"Ali"},
                        {"user":{"id":"150","username":"music","bot":true}}],
             "voice_states":[{"channel_id":"11","user_id":"101","session_id":"a"},
                             {"channel_id":"11","user_id":"150","session_id":"b"}]}
            """)
        guard case let .guildAvailable(snapshot)? = transport.map(.guildCreate(guild)) else {
            return XCTFail("not mapped")
        }
        XCTAssertEqual(snapshot.name, "Server A")
        XCTAssertEqual(snapshot.channelNames[Snowflake(11)], "General")
        XCTAssertEqual(
            snapshot.voiceStates.map(\.user),
            [
                BotUser(id: Snowflake(101), name: "Ali"), BotUser(id: Snowflake(150), name: "music", isBot: true),
            ])
    }

    func testVoiceStateMessageAndInteraction() throws {
        let state = try decode(
            VoiceState.self,
            """
            {"guild_id":"1","channel_id":null,"user_id":"101","session_id":"a",
             "member":{"user":{"id":"101","username":"alice"}}}
            """)
        XCTAssertEqual(
            transport.map(.voiceStateUpdate(state)),
            .voiceStateChanged(
                VoiceStateChange(
                    guildID: Snowflake(1),
                    user: BotUser(id: Snowflake(101), name: "alice"),
                    channelID: nil)))
        let message = try decode(
            DiscordMessage.self,
            """
            {"id":"5","channel_id":"19","guild_id":"1","content":"!help",
             "author":{"id":"150","username":"music","bot":true}}
            """)
        guard case let .messageCreated(chat)? = transport.map(.messageCreate(message)) else { return XCTFail() }
        XCTAssertTrue(chat.author.isBot)
        XCTAssertEqual(chat.content, "!help")

        let interaction = try decode(
            Interaction.self,
            """
            {"id":"7","application_id":"998","type":2,"token":"secret-interaction-token","guild_id":"1",
             "channel_id":"19","member":{"user":{"id":"101","username":"alice"}},
             "data":{"name":"voice","options":[{"name":"name","type":3,"value":"NATM1"}]}}
            """)
        guard case let .interactionCreated(command)? = transport.map(.interactionCreate(interaction)) else {
            return XCTFail()
        }
        XCTAssertEqual(command.name, "voice")
        XCTAssertEqual(command.options, ["name": "NATM1"])
        XCTAssertEqual(command.handle, InteractionHandle(id: Snowflake(7), applicationID: Snowflake(998)))
        XCTAssertFalse("\(command)".contains("secret-interaction-token"), "the bot never sees the token")

        // Pings and autocomplete (types 1 and 4) are not commands.
        var ping = interaction
        ping.type = 1
        XCTAssertNil(transport.map(.interactionCreate(ping)))
    }
}
