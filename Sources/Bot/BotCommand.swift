import Foundation

/// A command, whether typed with the prefix (`!voice NATM1`) or used as a slash command (`/voice name:NATM1`).
public enum BotCommand: Sendable, Equatable {
    case prompt(String)
    case voice(String)
    case voiceList
    /// `persona` alone lists the presets.
    case persona(String?)
    case settings
    case reset
    case help
    case join
    case leave
    case privacy
    /// The prefix followed by a word that is no command (answered with a pointer to `help`).
    case unknown(String)

    /// The command names, as typed and as registered.
    public static let names = [
        "prompt", "voice", "voice-list", "persona", "settings", "reset", "help", "join",
        "leave", "privacy",
    ]

    /// Longest message looked at: anything longer cannot be a valid command (prompts are capped far below).
    static let maximumMessageLength = 8_000

    /// Parses a chat message that starts with `prefix`; `nil` when it is not meant for the bot.
    public static func parse(message content: String, prefix: String) -> BotCommand? {
        guard content.hasPrefix(prefix), content.utf8.count <= maximumMessageLength else { return nil }
        let body = content.dropFirst(prefix.count)
        let name = body.prefix { !$0.isWhitespace }
        guard !name.isEmpty else { return nil }
        let argument = body.dropFirst(name.count).trimmingCharacters(in: .whitespacesAndNewlines)
        return make(name: String(name), argument: argument.isEmpty ? nil : argument)
    }

    /// Builds the command for a slash invocation with its string options.
    public static func parse(slash name: String, options: [String: String]) -> BotCommand {
        let argument = options["text"] ?? options["name"] ?? options["preset"]
        return make(name: name, argument: argument?.isEmpty == true ? nil : argument)
    }

    private static func make(name: String, argument: String?) -> BotCommand {
        switch name.lowercased() {
        case "prompt": return .prompt(argument ?? "")
        case "voice": return .voice(argument ?? "")
        case "voice-list", "voice_list", "voicelist", "voices": return .voiceList
        case "persona": return .persona(argument)
        case "settings": return .settings
        case "reset": return .reset
        case "help": return .help
        case "join": return .join
        case "leave": return .leave
        case "privacy": return .privacy
        default: return .unknown(name)
        }
    }

    /// True for commands about the user's own settings: their slash replies are ephemeral.
    public var isAboutOwnSettings: Bool {
        switch self {
        case .prompt, .voice, .persona, .settings, .reset: return true
        default: return false
        }
    }

    /// The slash command definitions for bulk overwrite.
    public static func slashCommands(promptLimit: Int = PromptRules.limit) -> [SlashCommand] {
        let presets = PersonaPresets.all.map { SlashCommandOption.Choice(name: $0.name, value: $0.name) }
        return [
            SlashCommand(
                name: "prompt", description: "Set the text prompt (persona) the AI uses in your sessions",
                options: [
                    SlashCommandOption(
                        name: "text", description: "What the AI should be",
                        required: true, maxLength: promptLimit)
                ]),
            SlashCommand(
                name: "voice", description: "Choose the AI's voice for your sessions",
                options: [
                    SlashCommandOption(
                        name: "name", description: "A voice such as NATF0 (see /voice-list)", required: true,
                        maxLength: VoiceCatalog.maximumNameLength)
                ]),
            SlashCommand(name: "voice-list", description: "List the voices you can choose"),
            SlashCommand(
                name: "persona", description: "Use a preset persona, or list them",
                options: [
                    SlashCommandOption(
                        name: "preset", description: "The preset to use",
                        required: false, choices: presets)
                ]),
            SlashCommand(name: "settings", description: "Show your prompt, voice and persona"),
            SlashCommand(name: "reset", description: "Go back to the default prompt and voice"),
            SlashCommand(name: "help", description: "What the bot does and its commands"),
            SlashCommand(name: "join", description: "Bring the bot to your voice channel"),
            SlashCommand(name: "leave", description: "Make the bot leave voice in this server"),
            SlashCommand(name: "privacy", description: "Show the voice privacy code of the bot's call"),
        ]
    }
}
