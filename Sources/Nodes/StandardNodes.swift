import RouterCore

extension NodeRegistry {
    /// Every node type that ships with the router. Adding a type: one file in Sources/Nodes plus one line here.
    public static var standard: NodeRegistry {
        var registry = NodeRegistry()
        for type in standardNodeTypes { registry.register(type) }
        return registry
    }
}

/// The shipped node types, in catalogue order.
let standardNodeTypes: [any NodeType.Type] = [
    WavIn.self,
    DiscordIn.self,
    Greeting.self,
    Mixer.self,
    Resample.self,
    Gain.self,
    OpusOggEncode.self,
    Decode.self,
    PersonaPlexLink.self,
    TextRelay.self,
    WavOut.self,
    DiscordOut.self,
    WavTap.self,
    OggTap.self,
    Meter.self,
    LogTap.self,
]
