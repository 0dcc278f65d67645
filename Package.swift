// swift-tools-version: 6.1
// The module graph reads like the data path:
//   C shims (libopus, libogg, speexdsp) -> Codecs -> Nodes -> router
//   RouterCore (engine: media, ports, registry, YAML spec, validation, runtime, taps, metrics; no transport)
//   PersonaPlex (WebSocket client) -> Nodes
//   MLS (RFC 9420, suite 2) -> DAVE (Discord E2EE session + frame cryptor)
import PackageDescription

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "voice-router",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "router", targets: ["router"]),
        .library(name: "Realtime", targets: ["Realtime"]),
        .library(name: "RouterCore", targets: ["RouterCore"]),
        .library(name: "Nodes", targets: ["Nodes"]),
        .library(name: "Codecs", targets: ["Codecs"]),
        .library(name: "PersonaPlex", targets: ["PersonaPlex"]),
        .library(name: "MLS", targets: ["MLS"]),
        .library(name: "DAVE", targets: ["DAVE"]),
        .library(name: "DiscordVoice", targets: ["DiscordVoice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // System libraries (Debian -dev packages, found through pkg-config).
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "COgg", pkgConfig: "ogg", providers: [.apt(["libogg-dev"])]),
        .systemLibrary(name: "CSpeexDSP", pkgConfig: "speexdsp", providers: [.apt(["libspeexdsp-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .target(name: "CAllocCounter"),

        // The realtime hand-off between the tick thread and network event loops (one SPSC ring of preallocated
        // slots, one monotonic clock). Everything that crosses from a socket to the graph goes through it.
        .target(name: "Realtime"),

        // Engine. Pipeline files are read through Yams' bundled libyaml (its `CYaml` module, imported by
        // YAMLDocument.swift) rather than Yams' Swift API, which refuses duplicate keys before we can point at both;
        // Yams publishes only the `Yams` product, so this product is what brings `CYaml` into the build.
        .target(name: "RouterCore", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: v5),

        // Transport and codec libraries.
        .target(name: "Codecs", dependencies: ["COpus", "COgg", "CSpeexDSP"], swiftSettings: v5),
        .target(name: "PersonaPlex", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: v5),
        .target(name: "MLS", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: v5),
        .target(name: "DAVE", dependencies: ["MLS", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: v5),

        // Interop harness: plays the Discord voice server (MLS external sender) and our DAVE member for the
        // Python driver that runs dave.py and davey members beside it (Tests/interop).
        .executableTarget(name: "dave-interop", dependencies: ["DAVE", "MLS"], swiftSettings: v5),

        // Discord: the main gateway and REST (knows nothing of the graph).
        .target(name: "Discord"),
        // The voice connection: voice gateway v8, UDP/RTP with rtpsize AEAD (AES-GCM and XChaCha20 through libsodium),
        // DAVE wired in. Takes `Discord`'s hand-off types only; knows nothing of the graph.
        .target(name: "DiscordVoice", dependencies: [
            "Discord", "DAVE", "Realtime", "CSodium",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // The Discord simulator (loopback only): Voice/ is the voice server (voice gateway v8, UDP relay, DAVE
        // external sender, simulated members).
        .target(name: "DiscordSimulator", dependencies: [
            "DiscordVoice", "DAVE", "MLS", "Realtime", "Codecs",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ]),

        // voice-bench: per-frame transport/DAVE costs, allocations per packet, send pacing against the simulator.
        .executableTarget(name: "voice-bench", dependencies: [
            "DiscordVoice", "DiscordSimulator", "Discord", "Realtime", "CAllocCounter",
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // Graph nodes adapting the libraries, and the CLI.
        .target(name: "Nodes", dependencies: ["RouterCore", "Codecs", "PersonaPlex"], swiftSettings: v5),
        .executableTarget(name: "router", dependencies: [
            "RouterCore", "Nodes", "Codecs", "CAllocCounter",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),

        // Tests.
        .testTarget(name: "RealtimeTests", dependencies: ["Realtime"]),
        .testTarget(name: "RouterCoreTests", dependencies: ["RouterCore"], swiftSettings: v5),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs"], swiftSettings: v5),
        .testTarget(name: "NodesTests", dependencies: ["Nodes", "RouterCore", "Codecs"], swiftSettings: v5),
        .testTarget(name: "BridgeTests", dependencies: ["Nodes", "RouterCore", "Codecs"], swiftSettings: v5),
        .testTarget(name: "PersonaPlexTests", dependencies: ["PersonaPlex"], swiftSettings: v5),
        .testTarget(name: "MLSTests", dependencies: ["MLS"], swiftSettings: v5),
        .testTarget(name: "DAVETests", dependencies: ["DAVE", "MLS"], swiftSettings: v5),
        .testTarget(name: "DiscordVoiceTests", dependencies: [
            "DiscordVoice", "DiscordSimulator", "Discord", "DAVE", "Realtime", "Codecs", "CAllocCounter",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "RouterCLITests", dependencies: ["router"], swiftSettings: v5),
    ]
)
