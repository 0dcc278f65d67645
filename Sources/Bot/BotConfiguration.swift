import Discord
import Foundation
import Logging
import PersonaPlex

import struct RouterCore.PipelineEnvironment
import struct RouterCore.PipelineErrors

/// Everything the bot reads from the environment (and `.env`). `.env.example` lists each setting with a comment.
public struct BotConfiguration: Sendable {
    /// `DISCORD_TOKEN` (required).
    public var token: BotToken
    /// `PERSONAPLEX_URL`: one or more backends, comma-separated; each serves one session at a time.
    public var backends: [PersonaPlexEndpoint]
    /// `COMMAND_PREFIX` (default `!`).
    public var commandPrefix: String
    /// `VOICE_PROMPT_DIR`: the voices are the files there; unset means the 18 stock voices.
    public var voicePromptDirectory: String?
    /// `DATA_DIR` (default `./data`): where the settings database lives.
    public var dataDirectory: String
    /// `STATUS_CHANNEL_ID`: post status here instead of the voice channel's own text chat.
    public var statusChannelID: Snowflake?
    /// `DISCORD_GUILD_ID`: register slash commands in this guild only (they show at once); unset means global.
    public var commandGuildID: Snowflake?
    /// `DEFAULT_VOICE` (default `NATF0.pt`) and `DEFAULT_PROMPT` (default "You are a helpful assistant.").
    public var defaults: UserSettings.Defaults
    /// `LOG_LEVEL` (default `info`).
    public var logLevel: Logger.Level

    /// Every setting the bot reads (the Discord transport reads its own; `.env.example` lists both).
    public static let settingNames = [
        "DISCORD_TOKEN", "PERSONAPLEX_URL", "COMMAND_PREFIX", "VOICE_PROMPT_DIR", "DATA_DIR", "STATUS_CHANNEL_ID",
        "DISCORD_GUILD_ID", "DEFAULT_VOICE", "DEFAULT_PROMPT", "LOG_LEVEL",
    ]

    public static let defaultBackend = "wss://localhost:8998/api/chat"
    public static let defaultPrefix = "!"
    public static let defaultDataDirectory = "./data"

    public init(
        token: BotToken, backends: [PersonaPlexEndpoint], commandPrefix: String = defaultPrefix,
        voicePromptDirectory: String? = nil, dataDirectory: String = defaultDataDirectory,
        statusChannelID: Snowflake? = nil, commandGuildID: Snowflake? = nil,
        defaults: UserSettings.Defaults = .standard, logLevel: Logger.Level = .info
    ) {
        self.token = token
        self.backends = backends
        self.commandPrefix = commandPrefix
        self.voicePromptDirectory = voicePromptDirectory
        self.dataDirectory = dataDirectory
        self.statusChannelID = statusChannelID
        self.commandGuildID = commandGuildID
        self.defaults = defaults
        self.logLevel = logLevel
    }

    /// Reads the process environment over `.env` (when the file exists).
    public static func load(dotEnvPath: String? = ".env") throws(BotConfigurationError) -> BotConfiguration {
        let environment: PipelineEnvironment
        do {
            environment = try PipelineEnvironment.load(dotEnvPath: dotEnvPath)
        } catch let errors as PipelineErrors {
            let reason = errors.diagnostics.map(\.description).joined(separator: "; ")
            throw .unreadableDotEnv(path: dotEnvPath ?? ".env", reason: reason)
        } catch {
            throw .unreadableDotEnv(path: dotEnvPath ?? ".env", reason: "\(type(of: error))")
        }
        return try parse(environment.variables)
    }

    /// Parses the settings from `variables`, collecting every problem (one line each) before failing.
    public static func parse(_ variables: [String: String]) throws(BotConfigurationError) -> BotConfiguration {
        var problems: [BotConfigurationError] = []
        func value(_ name: String) -> String? {
            guard let raw = variables[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func invalid(_ name: String, _ raw: String, _ expected: String) {
            problems.append(.invalidValue(setting: name, value: BotConfigurationError.quoted(raw), expected: expected))
        }

        var token: BotToken?
        do throws(BotConfigurationError) {
            token = try BotToken(variables["DISCORD_TOKEN"] ?? "")
        } catch {
            problems.append(error)
        }

        var backends: [PersonaPlexEndpoint] = []
        let urls = (value("PERSONAPLEX_URL") ?? defaultBackend).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for url in urls {
            do {
                backends.append(try PersonaPlexEndpoint(url: url))
            } catch let error as PersonaPlexError {
                invalid("PERSONAPLEX_URL", url, "\(error); give ws:// or wss:// URLs separated by commas")
            } catch {
                invalid("PERSONAPLEX_URL", url, "give ws:// or wss:// URLs separated by commas")
            }
        }
        if urls.isEmpty { invalid("PERSONAPLEX_URL", variables["PERSONAPLEX_URL"] ?? "", "name at least one backend") }

        let prefix = value("COMMAND_PREFIX") ?? defaultPrefix
        if prefix.count > 5 || prefix.contains(where: { $0.isWhitespace || $0 == "@" || $0 == "/" }) {
            invalid("COMMAND_PREFIX", prefix, "use 1 to 5 characters without spaces, '@' or '/' (for example '!')")
        }

        let voiceDirectory = value("VOICE_PROMPT_DIR")
        var voices = PersonaPlexVoices.stock
        if let directory = voiceDirectory {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
                invalid("VOICE_PROMPT_DIR", directory, "no such directory; point it at the folder with the .pt voices")
            } else if let listed = try? VoiceCatalog(directory: directory).voices, !listed.isEmpty {
                voices = listed
            } else {
                invalid("VOICE_PROMPT_DIR", directory, "the directory holds no .pt voice files (or cannot be read)")
            }
        }
        let catalog = VoiceCatalog(voices: voices, directory: voiceDirectory)

        var defaults = UserSettings.Defaults.standard
        if let voice = value("DEFAULT_VOICE") {
            switch catalog.resolve(voice) {
            case let .success(name): defaults.voice = name
            case let .failure(refusal): invalid("DEFAULT_VOICE", voice, refusal.description)
            }
        }
        if let prompt = variables["DEFAULT_PROMPT"], !prompt.isEmpty {
            switch PromptRules.check(prompt) {
            case let .success(text): defaults.textPrompt = text
            case let .failure(refusal): invalid("DEFAULT_PROMPT", prompt, refusal.description)
            }
        }

        func snowflake(_ name: String) -> Snowflake? {
            guard let raw = value(name) else { return nil }
            guard let id = Snowflake(raw), id.rawValue > 0 else {
                invalid(name, raw, "give the numeric id (Developer Mode → right-click → Copy ID)")
                return nil
            }
            return id
        }
        let statusChannel = snowflake("STATUS_CHANNEL_ID")
        let guild = snowflake("DISCORD_GUILD_ID")

        var level = Logger.Level.info
        if let raw = value("LOG_LEVEL") {
            if let parsed = Logger.Level(rawValue: raw.lowercased()) {
                level = parsed
            } else {
                invalid("LOG_LEVEL", raw, "use one of " + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }

        guard problems.isEmpty, let token else {
            throw problems.count == 1 ? problems[0] : .several(problems)
        }
        return BotConfiguration(
            token: token, backends: backends, commandPrefix: prefix, voicePromptDirectory: voiceDirectory,
            dataDirectory: value("DATA_DIR") ?? defaultDataDirectory, statusChannelID: statusChannel,
            commandGuildID: guild, defaults: defaults, logLevel: level)
    }

    /// The voices users may pick from.
    public func voiceCatalog() throws -> VoiceCatalog {
        guard let directory = voicePromptDirectory else { return VoiceCatalog(voices: PersonaPlexVoices.stock) }
        return try VoiceCatalog(directory: directory)
    }
}
