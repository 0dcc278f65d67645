import RouterCore

/// The PCM formats of the transports the router bridges. The engine names none of them; nodes and tools that talk
/// to a transport use these names.
extension PCMFormat {
    /// Discord's voice format: 48 kHz stereo Opus.
    public static let discord = PCMFormat(sampleRate: 48_000, channels: 2)
    /// PersonaPlex's model format: 24 kHz mono.
    public static let personaPlex = PCMFormat(sampleRate: 24_000, channels: 1)
}
