import Discord
import Foundation
import GRDB

/// Per-user settings in SQLite (`DATA_DIR/settings.sqlite`). Each change is one write transaction that has
/// committed before the method returns, so a confirmation sent after it survives a restart or a `kill -9`.
/// A user only has a row once they change something; unset columns mean "the configured default", so changing
/// `DEFAULT_VOICE` or `DEFAULT_PROMPT` later reaches everyone who never chose their own.
public final class SettingsStore: Sendable {
    /// The database file name inside the data directory.
    public static let fileName = "settings.sqlite"

    public let path: String
    public let defaults: UserSettings.Defaults
    private let database: DatabaseQueue

    /// Opens (creating if needed) the database in `directory` and brings its schema up to date.
    public init(directory: String, defaults: UserSettings.Defaults = .standard) throws(SettingsStoreError) {
        self.defaults = defaults
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: directory, reason: "cannot create the directory (\(error.localizedDescription))")
        }
        do {
            var configuration = Configuration()
            configuration.label = "bot-settings"
            // Wait for another process holding the file (a second bot by mistake) rather than fail at once.
            configuration.busyMode = .timeout(5)
            database = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw .cannotOpen(path: path, reason: Self.reason(error))
        }
    }

    /// The schema, one migration per change; never edit a shipped migration, add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: user settings") { db in
            try db.create(table: StoredSettings.databaseTableName) { table in
                table.primaryKey("user_id", .text)
                table.column("text_prompt", .text)
                table.column("voice", .text)
                table.column("persona", .text)
                table.column("updated_at", .datetime).notNull()
            }
        }
        return migrator
    }

    /// The user's settings (the defaults for anything they never set).
    public func settings(for userID: Snowflake) async throws(SettingsStoreError) -> UserSettings {
        do {
            let stored = try await database.read { db in try StoredSettings.fetchOne(db, key: userID.description) }
            return merged(stored, userID: userID)
        } catch {
            throw .failed(Self.reason(error))
        }
    }

    /// Sets a custom prompt (and forgets the persona it may have come from).
    @discardableResult
    public func setPrompt(_ text: String, for userID: Snowflake) async throws(SettingsStoreError) -> UserSettings {
        try await update(userID) {
            $0.textPrompt = text
            $0.persona = nil
        }
    }

    /// Sets the voice (a canonical name from `VoiceCatalog`).
    @discardableResult
    public func setVoice(_ voice: String, for userID: Snowflake) async throws(SettingsStoreError) -> UserSettings {
        try await update(userID) { $0.voice = voice }
    }

    /// Sets the prompt to a preset's and remembers the preset's name.
    @discardableResult
    public func setPersona(_ preset: PersonaPreset, for userID: Snowflake) async throws(SettingsStoreError)
        -> UserSettings
    {
        try await update(userID) {
            $0.textPrompt = preset.prompt
            $0.persona = preset.name
        }
    }

    /// Forgets everything the user set: back to the defaults.
    @discardableResult
    public func reset(_ userID: Snowflake) async throws(SettingsStoreError) -> UserSettings {
        do {
            _ = try await database.write { db in try StoredSettings.deleteOne(db, key: userID.description) }
        } catch {
            throw .failed(Self.reason(error))
        }
        return defaults.settings(for: userID)
    }

    /// Read-modify-write of one row inside a single transaction.
    private func update(_ userID: Snowflake, _ change: @escaping @Sendable (inout StoredSettings) -> Void)
        async throws(SettingsStoreError) -> UserSettings
    {
        do {
            let stored = try await database.write { db in
                var row =
                    try StoredSettings.fetchOne(db, key: userID.description)
                    ?? StoredSettings(userID: userID.description)
                change(&row)
                row.updatedAt = Date()
                try row.save(db)
                return row
            }
            return merged(stored, userID: userID)
        } catch {
            throw .failed(Self.reason(error))
        }
    }

    private func merged(_ stored: StoredSettings?, userID: Snowflake) -> UserSettings {
        UserSettings(
            userID: userID, textPrompt: stored?.textPrompt ?? defaults.textPrompt,
            voice: stored?.voice ?? defaults.voice, persona: stored?.persona)
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "SQLite error \(error.resultCode.rawValue): \(error.message ?? "no message")"
        }
        return "\(error)"
    }
}

/// One row of `user_settings`.
struct StoredSettings: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "user_settings"

    var userID: String
    var textPrompt: String?
    var voice: String?
    var persona: String?
    var updatedAt = Date()

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case textPrompt = "text_prompt"
        case voice, persona
        case updatedAt = "updated_at"
    }
}

/// The settings database could not be opened or written.
public enum SettingsStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case failed(String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open the settings database \(path): \(reason)"
        case let .failed(reason): return "the settings database failed: \(reason)"
        }
    }
}
