import Discord

/// One user's choices for the sessions they start.
public struct UserSettings: Sendable, Equatable {
    public var userID: Snowflake
    /// PersonaPlex's `text_prompt`.
    public var textPrompt: String
    /// PersonaPlex's `voice_prompt`, a canonical file name such as `NATF0.pt`.
    public var voice: String
    /// The preset the prompt came from, if the user picked one with `persona` (cleared by `prompt`).
    public var persona: String?

    public init(userID: Snowflake, textPrompt: String, voice: String, persona: String? = nil) {
        self.userID = userID
        self.textPrompt = textPrompt
        self.voice = voice
        self.persona = persona
    }

    /// What a user has before changing anything.
    public struct Defaults: Sendable, Equatable {
        public var voice: String
        public var textPrompt: String

        public init(voice: String, textPrompt: String) {
            self.voice = voice
            self.textPrompt = textPrompt
        }

        /// The seed's defaults: `NATF0.pt` and "You are a helpful assistant.".
        public static let standard = Defaults(voice: "NATF0.pt", textPrompt: "You are a helpful assistant.")

        public func settings(for userID: Snowflake) -> UserSettings {
            UserSettings(userID: userID, textPrompt: textPrompt, voice: voice)
        }
    }
}
