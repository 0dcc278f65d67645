import Discord
import Logging

import enum RouterCore.Spelling

/// Carries out the commands that touch the settings store, the voice catalog or the voice layer, and words the
/// answer. A change is written (and committed) before its confirmation is returned.
public struct CommandHandler: Sendable {
    public let store: SettingsStore
    public let catalog: VoiceCatalog
    public let prefix: String
    public let sessions: any VoiceSessionService
    public let logger: Logger

    public init(
        store: SettingsStore, catalog: VoiceCatalog, prefix: String, sessions: any VoiceSessionService,
        logger: Logger
    ) {
        self.store = store
        self.catalog = catalog
        self.prefix = prefix
        self.sessions = sessions
        self.logger = logger
    }

    /// The answer to `command`, or `nil` when the bot should stay quiet (an unknown word that resembles no
    /// command: `!!!` or `!wow` in chat is not meant for the bot).
    public func run(_ command: BotCommand, _ context: CommandContext) async -> String? {
        let user = context.user.id
        do {
            switch command {
            case let .prompt(text):
                switch PromptRules.check(text) {
                case let .failure(refusal): return refusal.description
                case let .success(prompt):
                    try await store.setPrompt(prompt, for: user)
                    return "Saved. The sessions you start will use this prompt:\n" + ChatText.block(prompt)
                }
            case let .voice(name):
                switch catalog.resolve(name) {
                case let .failure(refusal):
                    return refusal.description + " See them all with `\(prefix)voice-list`."
                case let .success(voice):
                    try await store.setVoice(voice, for: user)
                    return "Saved. Your voice is now **\(VoiceName.display(voice))**."
                }
            case .voiceList:
                return voiceList()
            case .persona(nil):
                return personaList()
            case let .persona(name?):
                guard let preset = PersonaPresets.named(name) else {
                    return "There is no persona called \(ChatText.quoted(name)). "
                        + "The presets are: \(PersonaPresets.all.map(\.name).joined(separator: ", "))."
                }
                try await store.setPersona(preset, for: user)
                return "Saved. Your persona is now **\(preset.name)**:\n" + ChatText.block(preset.prompt)
            case .settings:
                let settings = try await store.settings(for: user)
                return describe(settings, heading: "Your settings")
            case .reset:
                let settings = try await store.reset(user)
                return describe(settings, heading: "Back to the defaults")
            case .help:
                return help()
            case .privacy:
                guard let guild = context.guildID else { return BotMessages.guildOnly }
                guard let code = await sessions.privacyCode(guildID: guild) else {
                    return "I'm not in an end-to-end encrypted voice call on this server right now, so there is no "
                        + "privacy code to show."
                }
                return "The voice privacy code of my call here is **\(code)**. It should match the code Discord shows "
                    + "in the voice panel (the shield icon) for everyone in the call."
            case let .unknown(word):
                guard let guess = Spelling.suggestion(for: word, among: BotCommand.names) else { return nil }
                return "I don't know `\(prefix)\(ChatText.escapingMentions(String(word.prefix(32))))`. "
                    + "Did you mean `\(prefix)\(guess)`? `\(prefix)help` lists everything."
            case .join, .leave:
                return nil  // decided by BotState
            }
        } catch {
            logger.error("settings change failed", metadata: ["user": "\(user)", "error": "\(error)"])
            return "Sorry, I couldn't reach my settings database, so nothing changed. Please try again in a moment."
        }
    }

    func voiceList() -> String {
        let lines = catalog.groups.map { group in
            "**\(group.title)**: " + group.voices.map(VoiceName.display).joined(separator: ", ")
        }
        return "Voices you can choose:\n" + lines.joined(separator: "\n") + "\nPick one with `\(prefix)voice NAME`."
    }

    func personaList() -> String {
        let lines = PersonaPresets.all.map { "• **\($0.name)**: \($0.summary)" }
        return "Persona presets:\n" + lines.joined(separator: "\n")
            + "\nPick one with `\(prefix)persona NAME`, or write your own with `\(prefix)prompt TEXT`."
    }

    func describe(_ settings: UserSettings, heading: String) -> String {
        let persona =
            settings.persona.map { "persona **\($0)**" }
            ?? (settings.textPrompt == store.defaults.textPrompt ? "the default prompt" : "a custom prompt")
        return "\(heading): voice **\(VoiceName.display(settings.voice))**, \(persona):\n"
            + ChatText.block(settings.textPrompt)
    }

    func help() -> String {
        let p = prefix
        return """
            I bring an AI voice (NVIDIA PersonaPlex) into voice channels: join a voice channel and I come and talk \
            with you. I leave when everyone has left. If I'm busy, I tell you and come to you when I'm free.
            Commands (type them with `\(p)` or use them as slash commands):
            `\(p)prompt TEXT`: what the AI should be (up to \(PromptRules.limit) characters)
            `\(p)voice NAME`: the AI's voice · `\(p)voice-list`: all voices
            `\(p)persona NAME`: a preset persona · `\(p)persona`: list the presets
            `\(p)settings`: your current choices · `\(p)reset`: back to the defaults
            `\(p)join` / `\(p)leave`: bring me to your voice channel, or send me away
            `\(p)privacy`: the voice privacy code of my call · `\(p)help`: this message
            Your settings are used for the sessions you start.
            """
    }
}
