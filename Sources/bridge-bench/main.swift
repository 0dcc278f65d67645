import Bridge
import Codecs
import Demo
import Foundation
import RouterCore

#if canImport(Glibc)
    import Glibc
#endif

/// bridge-bench: the router as shipped (`.build/release/router run pipelines/personaplex.yaml`, a child process)
/// bridging simulated calls — one guild, one speaking user and one PersonaPlex stand-in per call, all in this
/// process — and what it costs: CPU per call per 20 ms frame beside the bare library floor of the same work
/// measured here in the same run, tick durations, hand-off latencies, and (mouth-to-ear) the user's speech onset
/// to the echo's onset in what the user hears.
///
///     swift build -c release --product router --product bridge-bench
///     .build/release/bridge-bench cpu --calls 1 --seconds 20
///     .build/release/bridge-bench cpu --calls 64 --seconds 20 --router-core 0 --world-cores 1
///     .build/release/bridge-bench mouth-to-ear --takes 5
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else {
        return fallback
    }
    return v
}
func text(_ name: String, _ fallback: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}

let mode = arguments.first ?? "cpu"
let routerPath = text("--router", ".build/release/router")
let pipelinePath = text("--pipeline", "pipelines/personaplex.yaml")
let speechPath = text("--speech", "samples/speech-like.wav")

do {
    switch mode {
    case "cpu":
        try await CPUBench(
            calls: option("--calls", 1), seconds: option("--seconds", 20), routerCore: option("--router-core", -1),
            worldCores: text("--world-cores", ""), router: routerPath, pipeline: pipelinePath, speech: speechPath
        ).run()
    case "mouth-to-ear":
        try await MouthToEarBench(takes: option("--takes", 5), pipeline: pipelinePath, speech: speechPath).run()
    default:
        print("usage: bridge-bench cpu [--calls N] [--seconds S] [--router-core C] [--world-cores A,B] | mouth-to-ear")
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("bridge-bench: \(error)\n".utf8))
    exit(1)
}
