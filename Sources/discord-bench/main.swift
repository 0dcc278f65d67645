import Discord
import DiscordSimulator
import Foundation
import Logging

// Measurements for the Discord client (run in release):
//   discord-bench dispatch [N]             µs per MESSAGE_CREATE through decode + cache (p50/p99)
//   discord-bench rss GUILDS               RSS of a client process idle after READY + GUILDS GUILD_CREATEs
//   discord-bench identify-latency [RUNS]  process start → Identify received by the simulator (p50)
//   discord-bench client                   (child) connect with DISCORD_TOKEN/DISCORD_API_BASE; see BENCH_* env

let arguments = Array(CommandLine.arguments.dropFirst())
let token = "YmVuY2g.bench.token-not-secret"

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

func rssKiB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
}

func dispatchBench(count: Int) throws {
    let bench = GatewayDispatchBench()
    let guildCreate =
        #"{"op":0,"s":1,"t":"GUILD_CREATE","d":{"id":"1000000000000000000","name":"g","channels":[{"id":"1000000000000000001","type":0,"name":"general"}],"members":[],"voice_states":[]}}"#
    _ = try bench.handle(Data(guildCreate.utf8))
    var samples: [Double] = []
    samples.reserveCapacity(count)
    var frameBytes = 0
    for index in 0..<count {
        let content = "message number \(index) with some ordinary chat text in it, about sixty chars"
        let frame =
            #"{"op":0,"s":\#(index + 2),"t":"MESSAGE_CREATE","d":{"id":"\#(1_100_000_000_000_000_000 + index)","type":0,"channel_id":"1000000000000000001","guild_id":"1000000000000000000","author":{"id":"1000000000000000099","username":"human","discriminator":"0","global_name":null,"avatar":null,"bot":false,"public_flags":0},"member":{"roles":[],"joined_at":"2024-01-01T00:00:00.000000+00:00","deaf":false,"mute":false,"flags":0},"content":"\#(content)","timestamp":"2026-12-03T17:00:00.000000+00:00","edited_timestamp":null,"tts":false,"mention_everyone":false,"mentions":[],"mention_roles":[],"attachments":[],"embeds":[],"pinned":false,"flags":0,"components":[]}}"#
        let data = Data(frame.utf8)
        frameBytes = data.count
        let start = DispatchTime.now().uptimeNanoseconds
        guard try bench.handle(data) else { fatalError("MESSAGE_CREATE not delivered") }
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
    }
    let measured = Array(samples.dropFirst(count / 10)).sorted()
    print(
        String(
            format: "MESSAGE_CREATE handling: p50 %.1f µs, p99 %.1f µs (n=%d, frame %d bytes)",
            percentile(measured, 0.5), percentile(measured, 0.99), measured.count, frameBytes))
}

/// Child: connects; exits after Identify (`BENCH_EXIT_AFTER_IDENTIFY`) or after `BENCH_GUILDS` GUILD_CREATEs and
/// `BENCH_IDLE_SECONDS` idle, printing its RSS.
func clientMode() async throws {
    let env = ProcessInfo.processInfo.environment
    let configuration = try DiscordConfiguration.fromEnvironment(env)
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let exitAfterIdentify = env["BENCH_EXIT_AFTER_IDENTIFY"] != nil
    let client = try DiscordClient(
        configuration: configuration, logger: logger,
        identifySent: { _ in
            if exitAfterIdentify {
                // Give the frame a moment to leave the socket buffer before exiting.
                usleep(100_000)
                exit(0)
            }
        })
    let expected = Int(env["BENCH_GUILDS"] ?? "0") ?? 0
    let idle = Double(env["BENCH_IDLE_SECONDS"] ?? "3") ?? 3
    let run = Task { try await client.run() }
    var guilds = 0
    for await event in client.events {
        if case .guildCreate = event { guilds += 1 }
        if guilds == expected { break }
    }
    try await Task.sleep(for: .seconds(idle))
    FileHandle.standardOutput.write(Data("RSS_KIB \(rssKiB()) guilds=\(guilds)\n".utf8))
    run.cancel()
    exit(0)
}

func spawnSelf(environment: [String: String]) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["client"]
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    return (process, pipe)
}

func rssBench(guilds: Int) async throws {
    var configuration = SimulatorConfiguration(botToken: token)
    configuration.guildCount = guilds
    configuration.humansPerGuild = 3
    let simulator = DiscordSimulator(configuration: configuration)
    let server = try await simulator.start()
    let (process, pipe) = try spawnSelf(environment: [
        "DISCORD_TOKEN": token, "DISCORD_API_BASE": simulator.apiBase, "BENCH_GUILDS": String(guilds),
    ])
    let output = await Task.detached { pipe.fileHandleForReading.readDataToEndOfFile() }.value
    process.waitUntilExit()
    print(
        "guilds \(guilds): " + String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    server.cancel()
}

func identifyLatency(runs: Int) async throws {
    let simulator = DiscordSimulator(configuration: SimulatorConfiguration(botToken: token))
    let server = try await simulator.start()
    var samples: [Double] = []
    for _ in 0..<runs {
        let before = simulator.receivedPayloads.filter { $0.op == 2 }.count
        let started = Date()
        let (process, _) = try spawnSelf(environment: [
            "DISCORD_TOKEN": token, "DISCORD_API_BASE": simulator.apiBase, "BENCH_EXIT_AFTER_IDENTIFY": "1",
        ])
        _ = await simulator.waitUntil(timeout: .seconds(20)) {
            simulator.receivedPayloads.filter { $0.op == 2 }.count > before
        }
        guard let identify = simulator.receivedPayloads.filter({ $0.op == 2 }).last else { continue }
        samples.append(identify.at.timeIntervalSince(started) * 1000)
        process.waitUntilExit()
    }
    let sorted = samples.sorted()
    print(
        String(
            format: "process start → Identify received: p50 %.1f ms, min %.1f, max %.1f (n=%d)",
            percentile(sorted, 0.5), sorted.first ?? 0, sorted.last ?? 0, sorted.count))
    server.cancel()
}

switch arguments.first {
case "dispatch":
    try dispatchBench(count: Int(arguments.dropFirst().first ?? "") ?? 20_000)
case "rss":
    try await rssBench(guilds: Int(arguments.dropFirst().first ?? "") ?? 100)
case "identify-latency":
    try await identifyLatency(runs: Int(arguments.dropFirst().first ?? "") ?? 10)
case "client":
    try await clientMode()
default:
    print("usage: discord-bench dispatch [N] | rss GUILDS | identify-latency [RUNS]")
    exit(2)
}
