// swift-tools-version: 6.1
// The module graph reads like the data path:
//   C shims (libopus, libogg, speexdsp) -> Codecs -> Nodes -> router (and router-bench, the benchmarks)
//   Realtime (the tick-thread/event-loop hand-off and the clock) -> RouterCore, DAVE, and every transport
//   RouterCore (engine: media, ports, registry, YAML spec, validation, runtime, taps, metrics; no transport)
//   PersonaPlex (WebSocket client) -> Nodes
//   MLS (RFC 9420, suite 2) -> DAVE (Discord E2EE session + frame cryptor)
import PackageDescription

// PersonaPlex is still being moved onto the Realtime hand-off; it stays in Swift 5 mode until then.

let package = Package(
    name: "voice-router",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "router", targets: ["router"]),
        .executable(name: "router-bench", targets: ["router-bench"]),
        .executable(name: "discord-simulator", targets: ["discord-simulator"]),
        .executable(name: "bridge-bench", targets: ["bridge-bench"]),
        .library(name: "Realtime", targets: ["Realtime"]),
        .library(name: "RouterCore", targets: ["RouterCore"]),
        .library(name: "Nodes", targets: ["Nodes"]),
        .library(name: "Codecs", targets: ["Codecs"]),
        .library(name: "PersonaPlex", targets: ["PersonaPlex"]),
        .library(name: "MLS", targets: ["MLS"]),
        .library(name: "DAVE", targets: ["DAVE"]),
        .library(name: "DiscordVoice", targets: ["DiscordVoice"]),
        .library(name: "Bot", targets: ["Bot"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // System libraries (Debian -dev packages, found through pkg-config).
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "COgg", pkgConfig: "ogg", providers: [.apt(["libogg-dev"])]),
        .systemLibrary(name: "CSpeexDSP", pkgConfig: "speexdsp", providers: [.apt(["libspeexdsp-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        // DAVE frames: AES-128-GCM with 8-byte tags on one keyed EVP context per key (swift-crypto has neither).
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "CAllocCounter"),

        // The realtime hand-off between the tick thread and network event loops (one SPSC ring of preallocated
        // slots, one monotonic clock). Everything that crosses from a socket to the graph goes through it.
        .target(name: "Realtime"),

        // Engine. Pipeline files are read through Yams' bundled libyaml (its `CYaml` module, imported by
        // YAMLDocument.swift) rather than Yams' Swift API, which refuses duplicate keys before we can point at both;
        // Yams publishes only the `Yams` product, so this product is what brings `CYaml` into the build.
        .target(name: "RouterCore", dependencies: ["Realtime", .product(name: "Yams", package: "Yams")]),

        // Transport and codec libraries.
        .target(name: "Codecs", dependencies: ["COpus", "COgg", "CSpeexDSP"]),
        .target(name: "PersonaPlex", dependencies: [
            "Realtime",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // A PersonaPlex stand-in (echo + captions, the real protocol) for the demo and tests: no GPU, no Python.
        .target(name: "PersonaPlexStandIn", dependencies: [
            "Codecs",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ]),
        .target(name: "MLS", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "DAVE", dependencies: [
            "MLS", "Realtime", "CLibCrypto", .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),


        // Discord: the main gateway and REST (knows nothing of the graph).
        .target(name: "Discord", dependencies: [
            "Realtime",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ]),
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
        // A protocol-faithful Discord on loopback for tests and the demo: gateway WebSocket + REST (it does not
        // import `Discord`: it speaks the wire format on its own, so it checks the client) and, in Voice/, the voice
        // server (voice gateway v8, UDP relay re-encrypting per recipient, DAVE external sender, simulated members).
        .target(name: "DiscordSimulator", dependencies: [
            "DiscordVoice", "DAVE", "MLS", "Realtime", "Codecs",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "discord-simulator", dependencies: ["DiscordSimulator"]),
        // Interop harness: our DAVE member (`VoiceE2EE`) beside dave.py and davey members hosted by a Python driver
        // (Tests/interop), in one call run by the simulator's voice server role (`InMemoryDAVECall`).
        .executableTarget(name: "dave-interop", dependencies: [
            "DAVE", "MLS", "Realtime", "DiscordSimulator", "DiscordVoice",
        ]),
        .executableTarget(name: "discord-bench", dependencies: ["Discord", "DiscordSimulator"]),
        // voice-bench: per-frame transport/DAVE costs, allocations per packet, send pacing against the simulator.
        .executableTarget(name: "voice-bench", dependencies: [
            "DiscordVoice", "DiscordSimulator", "Discord", "Realtime", "CAllocCounter",
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // The Discord bot's behaviour (commands, auto-join, backends and queue, per-user settings in SQLite),
        // written against its own small transport protocol so it knows no wire format.
        .target(name: "Bot", dependencies: [
            "Discord", "PersonaPlex", "RouterCore", "Realtime",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // Graph nodes adapting the libraries, and the CLI.
        .target(name: "Nodes", dependencies: ["Realtime", "RouterCore", "Codecs", "PersonaPlex", "DiscordVoice"]),
        // The bridge: the bot's voice sessions as graph instances of a pipeline file; and the demo that runs it
        // against the simulator and the PersonaPlex stand-in when no DISCORD_TOKEN is set.
        .target(name: "Bridge", dependencies: [
            "Bot", "Discord", "DiscordVoice", "Nodes", "RouterCore", "Realtime", "PersonaPlex",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(name: "Demo", dependencies: [
            "Bridge", "Bot", "Discord", "DiscordSimulator", "DiscordVoice", "PersonaPlexStandIn", "Realtime",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // bridge-bench: the shipped router bridging simulated calls (CPU per call-frame beside the library floor,
        // tick durations, latencies, mouth-to-ear).
        .executableTarget(name: "bridge-bench", dependencies: [
            "Bridge", "Demo", "Codecs", "DiscordSimulator", "DiscordVoice", "RouterCore", "Realtime",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "router", dependencies: [
            "Realtime", "RouterCore", "Nodes", "Codecs", "Bridge", "Demo",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The benchmarks, apart from the shipped binary: CAllocCounter interposes malloc in whichever executable
        // links it, so only this one counts allocations (and pays for counting them).
        .executableTarget(name: "router-bench", dependencies: [
            "Realtime", "RouterCore", "Nodes", "Codecs", "CAllocCounter",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tests.
        .testTarget(name: "RealtimeTests", dependencies: ["Realtime"]),
        .testTarget(name: "RouterCoreTests", dependencies: ["Realtime", "RouterCore"]),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs"]),
        .testTarget(name: "NodesTests", dependencies: [
            "Nodes", "Realtime", "RouterCore", "Codecs", "DiscordVoice", "CAllocCounter",
        ]),
        .testTarget(name: "BridgeTests", dependencies: ["Nodes", "Realtime", "RouterCore", "Codecs", "PersonaPlex"]),
        .testTarget(name: "PersonaPlexTests", dependencies: [
            "PersonaPlex", "Realtime",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ]),
        .testTarget(name: "PersonaPlexStandInTests", dependencies: ["PersonaPlexStandIn", "PersonaPlex", "Codecs"]),
        .testTarget(name: "MLSTests", dependencies: ["MLS"]),
        .testTarget(name: "DAVETests", dependencies: ["DAVE", "MLS", "Realtime"]),
        .testTarget(name: "DiscordTests", dependencies: [
            "Discord", "DiscordSimulator", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "BotTests", dependencies: [
            "Bot", "Discord", "DiscordSimulator", "PersonaPlex", "Realtime", "RouterCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "DiscordVoiceTests", dependencies: [
            "DiscordVoice", "DiscordSimulator", "Discord", "DAVE", "Realtime", "Codecs", "CAllocCounter",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "DiscordBridgeTests", dependencies: [
            "Bridge", "Demo", "Bot", "DiscordSimulator", "DiscordVoice", "Discord", "Nodes", "RouterCore", "Codecs",
            "Realtime", "PersonaPlexStandIn", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "RouterCLITests", dependencies: ["router", "router-bench"]),
    ]
)

// Fuzzing (issue 12): with ROUTER_FUZZ_SANITIZE set (scripts/fuzz.sh sets it to `fuzzer,address`, or `fuzzer` for
// release campaigns) the package gains one libFuzzer executable per parser (sources in Fuzz/Sources) and compiles its
// own library targets with the same sanitizers, so libFuzzer sees the parsers' coverage while dependencies stay
// uninstrumented. `-enable-testing` lets the thin fuzz entry points use `@testable import` in release builds too.
// Unset in every normal build and test run, so they never see fuzzer flags or fuzz targets.
if let sanitizers = Context.environment["ROUTER_FUZZ_SANITIZE"], !sanitizers.isEmpty {
    let sanitize: [String] = ["-sanitize=\(sanitizers)"]
    for target in package.targets where target.type == .regular && target.name != "CAllocCounter" {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitize + ["-enable-testing"])]
    }
    // lld: gold stops with an internal error reading the instrumented objects' debug info.
    let link: [LinkerSetting] = [.unsafeFlags(sanitize + ["-use-ld=lld"])]
    func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
        .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies, path: "Fuzz/Sources/\(name)",
                          swiftSettings: [.unsafeFlags(sanitize)], linkerSettings: link)
    }
    package.targets += [
        .target(name: "CLibFuzzer", path: "Fuzz/Sources/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/Sources/FuzzSupport"),
        fuzzTarget("fuzz-yaml", ["RouterCore", "Nodes"]),
        fuzzTarget("fuzz-ogg", ["Codecs"]),
        fuzzTarget("fuzz-wav", ["Codecs"]),
        fuzzTarget("fuzz-mls", ["MLS"]),
        fuzzTarget("fuzz-dave-gateway", ["DAVE", "MLS", "Realtime"]),
        fuzzTarget("fuzz-dave-frame", ["DAVE", "Realtime", .product(name: "Crypto", package: "swift-crypto")]),
        fuzzTarget("fuzz-personaplex", ["PersonaPlex", "Codecs",
                                        .product(name: "NIOCore", package: "swift-nio"),
                                        .product(name: "NIOEmbedded", package: "swift-nio"),
                                        .product(name: "NIOWebSocket", package: "swift-nio")]),
        fuzzTarget("fuzz-discord-gateway", ["Discord"]),
        fuzzTarget("fuzz-voice-gateway", ["DiscordVoice", "DAVE"]),
        fuzzTarget("fuzz-rtp", ["DiscordVoice"]),
    ]
    // Writes the seeds that need real keys and signatures (scripts/fuzz.sh --seeds); not a fuzz target, but linked
    // like one (FuzzSupport supplies the LLVMFuzzerTestOneInput that libFuzzer's runtime expects).
    package.targets.append(.executableTarget(
        name: "make-fuzz-seeds", dependencies: ["FuzzSupport", "DAVE", "MLS"], path: "Fuzz/Sources/make-fuzz-seeds",
        swiftSettings: [.unsafeFlags(sanitize)], linkerSettings: link))
    package.products += package.targets.filter { $0.name.hasPrefix("fuzz-") }
        .map { .executable(name: $0.name, targets: [$0.name]) }
}
