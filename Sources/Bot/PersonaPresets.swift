import Foundation

/// The persona presets of the PersonaPlex web UI (seed 004): each is just a text prompt the client sends; the
/// server has no notion of presets. The texts are the UI's own preset strings.
public struct PersonaPreset: Sendable, Equatable {
    public var name: String
    public var summary: String
    public var prompt: String
}

public enum PersonaPresets {
    public static let all: [PersonaPreset] = [
        PersonaPreset(
            name: "teacher", summary: "a wise and friendly teacher",
            prompt: "You are a wise and friendly teacher. Answer questions or provide advice in a clear and "
                + "engaging way."),
        PersonaPreset(
            name: "assistant", summary: "general conversation",
            prompt: "You enjoy having a good conversation."),
        PersonaPreset(
            name: "customer_service", summary: "Alex, a tech support agent",
            prompt: "You work for TechSupport Pro and your name is Alex. You are helpful, patient, and knowledgeable "
                + "about technology products."),
        PersonaPreset(
            name: "astronaut", summary: "Alex, an astronaut on a Mars mission",
            prompt: "You enjoy having a good conversation. Have a technical discussion about fixing a reactor core "
                + "on a spaceship to Mars. You are an astronaut on a Mars mission. Your name is Alex."),
        PersonaPreset(
            name: "chef", summary: "a former baker who loves cooking",
            prompt: "You enjoy having a good conversation. Have a casual conversation about favorite foods and cooking "
                + "experiences. You are a former baker now living in Boston. You enjoy cooking diverse international "
                + "dishes."),
    ]

    /// The preset called `name` (case-insensitive; `customer-service` and `customer service` work too).
    public static func named(_ name: String) -> PersonaPreset? {
        let key = name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            .replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        return all.first { $0.name == key }
    }
}
