import Discord
import Logging
import XCTest

@testable import Bot

final class CommandTests: XCTestCase {
    func testPrefixParsing() {
        XCTAssertEqual(BotCommand.parse(message: "!voice NATM1", prefix: "!"), .voice("NATM1"))
        XCTAssertEqual(BotCommand.parse(message: "!VOICE-LIST", prefix: "!"), .voiceList)
        XCTAssertEqual(
            BotCommand.parse(message: "!prompt  You are a pirate.\nArr. ", prefix: "!"),
            .prompt("You are a pirate.\nArr."))
        XCTAssertEqual(BotCommand.parse(message: "!persona", prefix: "!"), .persona(nil))
        XCTAssertEqual(BotCommand.parse(message: "!persona chef", prefix: "!"), .persona("chef"))
        XCTAssertEqual(BotCommand.parse(message: "?help", prefix: "?"), .help)
        XCTAssertNil(BotCommand.parse(message: "help", prefix: "!"))
        XCTAssertNil(BotCommand.parse(message: "! help", prefix: "!"))
        XCTAssertEqual(BotCommand.parse(message: "!sttings", prefix: "!"), .unknown("sttings"))
    }

    func testSlashParsing() {
        XCTAssertEqual(BotCommand.parse(slash: "prompt", options: ["text": "Hi"]), .prompt("Hi"))
        XCTAssertEqual(BotCommand.parse(slash: "voice", options: ["name": "NATF1"]), .voice("NATF1"))
        XCTAssertEqual(BotCommand.parse(slash: "persona", options: [:]), .persona(nil))
        XCTAssertEqual(BotCommand.parse(slash: "persona", options: ["preset": "astronaut"]), .persona("astronaut"))
        XCTAssertEqual(BotCommand.parse(slash: "privacy", options: [:]), .privacy)
    }

    func testSlashDefinitions() throws {
        let commands = BotCommand.slashCommands()
        XCTAssertEqual(commands.map(\.name), BotCommand.names)
        let pattern = try Regex("^[-_a-z0-9]{1,32}$")
        for command in commands {
            XCTAssertNotNil(command.name.wholeMatch(of: pattern), command.name)
            XCTAssertTrue((1...100).contains(command.description.count), command.name)
        }
        let json = String(decoding: try JSONEncoder().encode(commands), as: UTF8.self)
        XCTAssertTrue(json.contains("\"max_length\":1000"), json)
        let persona = commands.first { $0.name == "persona" }!
        XCTAssertEqual(
            persona.options.first?.choices?.map(\.value),
            ["teacher", "assistant", "customer_service", "astronaut", "chef"])
    }

    func testPersonaPresetsAreTheWebUIOnes() {
        XCTAssertEqual(
            PersonaPresets.all.map(\.name),
            ["teacher", "assistant", "customer_service", "astronaut", "chef"])
        XCTAssertTrue(PersonaPresets.named("teacher")!.prompt.hasPrefix("You are a wise and friendly teacher."))
        XCTAssertTrue(PersonaPresets.named("Customer-Service")!.prompt.contains("your name is Alex"))
        XCTAssertTrue(PersonaPresets.named("astronaut")!.prompt.contains("Mars"))
        XCTAssertTrue(PersonaPresets.named("chef")!.prompt.contains("former baker"))
        XCTAssertNil(PersonaPresets.named("pirate"))
        XCTAssertTrue(PersonaPresets.all.allSatisfy { $0.prompt.count <= PromptRules.limit })
    }

    // MARK: Handler

    func makeHandler() throws -> (CommandHandler, RecordingSessions) {
        let sessions = RecordingSessions()
        let store = try SettingsStore(directory: Fixture.temporaryDirectory())
        return (
            CommandHandler(
                store: store, catalog: VoiceCatalog(), prefix: "!", sessions: sessions,
                logger: Logger(label: "test")), sessions
        )
    }

    let context = CommandContext(
        user: Fixture.alice, guildID: Fixture.guildA, channelID: Fixture.textA,
        target: .channel(Fixture.textA))

    func testVoiceTraversalRefusedAndNothingStored() async throws {
        let (handler, _) = try makeHandler()
        let reply = await handler.run(.voice("../../etc/passwd"), context) ?? ""
        XCTAssertTrue(reply.contains("not a voice name"), reply)
        XCTAssertTrue(reply.contains("Closest valid names"), reply)
        XCTAssertTrue(reply.contains("!voice-list"), reply)
        let settings = try await handler.store.settings(for: Fixture.alice.id)
        XCTAssertEqual(settings.voice, "NATF0.pt")
        let typo = await handler.run(.voice("NATF9"), context) ?? ""
        XCTAssertTrue(typo.contains("There is no voice called `NATF9`"), typo)
    }

    func testVoiceListIsGrouped() async throws {
        let (handler, _) = try makeHandler()
        let reply = await handler.run(.voiceList, context) ?? ""
        for line in [
            "**Natural Female**: NATF0, NATF1, NATF2, NATF3", "**Natural Male**: NATM0, NATM1, NATM2, NATM3",
            "**Varied Female**: VARF0, VARF1, VARF2, VARF3, VARF4",
            "**Varied Male**: VARM0, VARM1, VARM2, VARM3, VARM4",
        ] {
            XCTAssertTrue(reply.contains(line), reply)
        }
    }

    func testPersonaAloneListsThePresets() async throws {
        let (handler, _) = try makeHandler()
        let reply = await handler.run(.persona(nil), context) ?? ""
        for name in ["teacher", "assistant", "customer_service", "astronaut", "chef"] {
            XCTAssertTrue(reply.contains("**\(name)**"), reply)
        }
        let unknown = await handler.run(.persona("pirate"), context) ?? ""
        XCTAssertTrue(unknown.contains("no persona called"), unknown)
        let set = await handler.run(.persona("astronaut"), context) ?? ""
        XCTAssertTrue(set.contains("persona is now **astronaut**"), set)
        let settings = await handler.run(.settings, context) ?? ""
        XCTAssertTrue(settings.contains("persona **astronaut**"), settings)
    }

    func testOverLongPromptRefusedWithTheLimit() async throws {
        let (handler, _) = try makeHandler()
        let reply = await handler.run(.prompt(String(repeating: "a", count: 1001)), context) ?? ""
        XCTAssertTrue(reply.contains("1001 characters"), reply)
        XCTAssertTrue(reply.contains("the limit is 1000 characters"), reply)
        let empty = await handler.run(.prompt("   "), context) ?? ""
        XCTAssertTrue(empty.contains("empty"), empty)
        let settings = try await handler.store.settings(for: Fixture.alice.id)
        XCTAssertEqual(settings.textPrompt, "You are a helpful assistant.")
    }

    func testHostilePromptIsStoredAsTypedButEchoedWithoutMentions() async throws {
        let (handler, _) = try makeHandler()
        let hostile = "Ping @everyone and @here and <@123> and <@&456> ```"
        let reply = await handler.run(.prompt(hostile), context) ?? ""
        XCTAssertFalse(reply.contains("@everyone"), reply)
        XCTAssertFalse(reply.contains("@here"), reply)
        XCTAssertFalse(reply.contains("<@123>"), reply)
        XCTAssertFalse(reply.contains("<@&456>"), reply)
        let settings = try await handler.store.settings(for: Fixture.alice.id)
        XCTAssertEqual(settings.textPrompt, hostile, "the AI gets the prompt unchanged")
    }

    func testUnknownWordsAnsweredOnlyWhenCloseToACommand() async throws {
        let (handler, _) = try makeHandler()
        let close = await handler.run(.unknown("settigns"), context)
        XCTAssertTrue(close?.contains("Did you mean `!settings`") == true, close ?? "nil")
        let far = await handler.run(.unknown("wow"), context)
        XCTAssertNil(far)
    }

    func testPrivacyCode() async throws {
        let (handler, sessions) = try makeHandler()
        let none = await handler.run(.privacy, context) ?? ""
        XCTAssertTrue(none.contains("no privacy code"), none)
        sessions.code.withLock { $0 = "12345 67890 11121 31415" }
        let code = await handler.run(.privacy, context) ?? ""
        XCTAssertTrue(code.contains("**12345 67890 11121 31415**"), code)
    }

    func testResetGoesBackToTheDefaults() async throws {
        let (handler, _) = try makeHandler()
        _ = await handler.run(.voice("VARM2"), context)
        _ = await handler.run(.persona("chef"), context)
        let reply = await handler.run(.reset, context) ?? ""
        XCTAssertTrue(reply.hasPrefix("Back to the defaults: voice **NATF0**, the default prompt"), reply)
        XCTAssertTrue(reply.contains("> You are a helpful assistant."), reply)
        let settings = try await handler.store.settings(for: Fixture.alice.id)
        XCTAssertEqual(settings, handler.store.defaults.settings(for: Fixture.alice.id))
    }

    func testHelpNamesEveryCommand() async throws {
        let (handler, _) = try makeHandler()
        let help = await handler.run(.help, context) ?? ""
        for name in BotCommand.names { XCTAssertTrue(help.contains("!\(name)"), name) }
    }
}
