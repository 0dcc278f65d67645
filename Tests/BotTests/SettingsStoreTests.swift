import Discord
import Foundation
import GRDB
import Logging
import XCTest

@testable import Bot

final class SettingsStoreTests: XCTestCase {
    let user = Snowflake(42)

    func testDefaultsUntilChanged() async throws {
        let store = try SettingsStore(directory: Fixture.temporaryDirectory())
        let settings = try await store.settings(for: user)
        XCTAssertEqual(
            settings,
            UserSettings(
                userID: user, textPrompt: "You are a helpful assistant.",
                voice: "NATF0.pt"))
    }

    func testChangesSurviveReopening() async throws {
        let directory = Fixture.temporaryDirectory()
        do {
            let store = try SettingsStore(directory: directory)
            try await store.setVoice("NATM2.pt", for: user)
            try await store.setPersona(PersonaPresets.named("chef")!, for: user)
            try await store.setVoice("VARF1.pt", for: Snowflake(43))
        }
        let reopened = try SettingsStore(directory: directory)
        let settings = try await reopened.settings(for: user)
        XCTAssertEqual(settings.voice, "NATM2.pt")
        XCTAssertEqual(settings.persona, "chef")
        XCTAssertEqual(settings.textPrompt, PersonaPresets.named("chef")!.prompt)
        let other = try await reopened.settings(for: Snowflake(43))
        XCTAssertEqual(other.voice, "VARF1.pt")
        XCTAssertEqual(other.textPrompt, "You are a helpful assistant.")
    }

    func testPromptClearsPersonaAndResetForgetsAll() async throws {
        let store = try SettingsStore(directory: Fixture.temporaryDirectory())
        try await store.setPersona(PersonaPresets.named("teacher")!, for: user)
        let custom = try await store.setPrompt("You are a pirate.", for: user)
        XCTAssertNil(custom.persona)
        XCTAssertEqual(custom.textPrompt, "You are a pirate.")
        let reset = try await store.reset(user)
        XCTAssertEqual(reset, store.defaults.settings(for: user))
        let read = try await store.settings(for: user)
        XCTAssertEqual(read, reset)
    }

    func testUnsetColumnsFollowChangedDefaults() async throws {
        let directory = Fixture.temporaryDirectory()
        try await SettingsStore(directory: directory).setVoice("NATM0.pt", for: user)
        let later = try SettingsStore(directory: directory, defaults: .init(voice: "NATF1.pt", textPrompt: "Be brief."))
        let settings = try await later.settings(for: user)
        XCTAssertEqual(settings.voice, "NATM0.pt")
        XCTAssertEqual(settings.textPrompt, "Be brief.")
    }

    func testMigrationsAreRecorded() throws {
        let store = try SettingsStore(directory: Fixture.temporaryDirectory())
        let queue = try DatabaseQueue(path: store.path)
        let applied = try queue.read { try SettingsStore.migrator.appliedIdentifiers($0) }
        XCTAssertEqual(applied, ["v1: user settings"])
        XCTAssertTrue(try queue.read { try $0.tableExists("user_settings") })
    }

    func testUnwritableDirectoryIsAClearError() {
        XCTAssertThrowsError(try SettingsStore(directory: "/proc/no-such/dir")) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot open the settings database"), "\(error)")
        }
    }

    /// The confirmation is sent only after the change committed: a process killed with SIGKILL right after
    /// printing it loses nothing. The child is this test bundle itself, running `testChildConfirmsThenWaits`.
    func testSettingsSurviveKillMinus9RightAfterConfirmation() async throws {
        let directory = Fixture.temporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = [Self.childTestName]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = directory
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()

        // Read until the child confirms, then kill it at once.
        var seen = Data()
        let deadline = Date().addingTimeInterval(120)
        while !String(decoding: seen, as: UTF8.self).contains(Self.confirmation), Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let text = String(decoding: seen, as: UTF8.self)
        XCTAssertTrue(text.contains(Self.confirmation), "the child never confirmed: \(text.suffix(500))")
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)

        let settings = try await SettingsStore(directory: directory).settings(for: user)
        XCTAssertEqual(settings.voice, "VARM3.pt")
        XCTAssertEqual(settings.textPrompt, "You are a lighthouse keeper.")
    }

    static let childVariable = "BOT_TESTS_CHILD_SETTINGS_DIR"
    static let childTestName = "BotTests.SettingsStoreTests/testChildConfirmsThenWaits"
    static let confirmation = "CONFIRMED-SETTINGS"

    /// Runs only as the child of the test above: changes settings through the command handler, prints the
    /// confirmation the bot would send, and waits to be killed.
    func testChildConfirmsThenWaits() async throws {
        guard let directory = ProcessInfo.processInfo.environment[Self.childVariable] else {
            throw XCTSkip("runs only as the child process of testSettingsSurviveKillMinus9RightAfterConfirmation")
        }
        let store = try SettingsStore(directory: directory)
        let handler = CommandHandler(
            store: store, catalog: VoiceCatalog(), prefix: "!", sessions: RecordingSessions(),
            logger: Logger(label: "child"))
        let context = CommandContext(
            user: BotUser(id: user, name: "U"), guildID: nil, channelID: nil,
            target: .channel(Snowflake(1)))
        let first = await handler.run(.voice("varm3"), context) ?? ""
        let second = await handler.run(.prompt("You are a lighthouse keeper."), context) ?? ""
        XCTAssertTrue(first.hasPrefix("Saved") && second.hasPrefix("Saved"))
        FileHandle.standardOutput.write(Data((Self.confirmation + "\n").utf8))
        try await Task.sleep(for: .seconds(60))
    }
}
