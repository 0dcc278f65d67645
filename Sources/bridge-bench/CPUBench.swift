import Bridge
import Codecs
import Demo
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `cpu`: N bridged calls through the shipped router (a child process), CPU per call-frame beside the floor.
struct CPUBench {
    var calls: Int
    var seconds: Int
    /// Pin the router to this core (`taskset`), -1 for none. Pin the bench itself elsewhere with
    /// `taskset -c 1 bridge-bench …` so the simulated world does not share the router's core.
    var routerCore: Int
    var worldCores: String
    var router: String
    var pipeline: String
    var speech: String

    func run() async throws {
        guard FileManager.default.isExecutableFile(atPath: router) else {
            throw BenchError("\(router) is missing: swift build -c release --product router")
        }
        let world = try await SimulatedWorld(guildCount: calls)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-bench-\(getpid())").path
        var environment = world.botEnvironment(ProcessInfo.processInfo.environment, dataDirectory: directory)
        environment["LOG_LEVEL"] = "info"  // the session summaries
        let child = Process()
        if routerCore >= 0 {
            child.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            child.arguments = ["-c", "\(routerCore)", router, "run", pipeline, "--log-level", "warning"]
        } else {
            child.executableURL = URL(fileURLWithPath: router)
            child.arguments = ["run", pipeline, "--log-level", "warning"]
        }
        child.environment = environment
        let log = Lines()
        let pipe = Pipe()
        child.standardError = pipe
        child.standardOutput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { log.append($0.availableData) }
        try child.run()
        defer { if child.isRunning { child.terminate() } }
        let simulator = world.simulator
        guard
            await simulator.waitUntil(
                timeout: .seconds(60),
                {
                    simulator.recordedRequests.contains { $0.path.hasSuffix("/commands") && $0.status < 300 }
                })
        else { throw BenchError("the router did not come up:\n\(log.text.suffix(2000))") }

        var humans: [SimulatedHuman] = []
        for call in 0..<calls { humans.append(try await world.humanJoins("user\(call)", guild: call, timeout: 60)) }
        print("\(calls) call(s) bridged; measuring \(seconds) s after a 3 s warm-up")
        let botID = simulator.botUserID
        let speech = speech, total = Double(seconds + 5)
        let (perFrame, heard) = try await withThrowingTaskGroup(of: Int.self) { group in
            for human in humans {
                group.addTask {
                    try await human.run(seconds: total, speak: speech, listenTo: botID, record: nil, loop: true)
                        .framesHeard
                }
            }
            try await Task.sleep(for: .seconds(3))
            let cpu0 = processCPU(child.processIdentifier), wall0 = ContinuousClock.now
            try await Task.sleep(for: .seconds(seconds))
            let cpu1 = processCPU(child.processIdentifier), elapsed = wall0.duration(to: .now)
            let wallSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let frames = wallSeconds * 50 * Double(calls)
            let perFrame = Double(cpu1 - cpu0) / frames / 1000
            print(
                String(
                    format: "router process CPU: %.1f %% of one core over %.1f s; %.1f µs per call-frame",
                    Double(cpu1 - cpu0) / (wallSeconds * 1e9) * 100, wallSeconds, perFrame))
            var heard: [Int] = []
            for try await count in group { heard.append(count) }
            return (perFrame, heard)
        }
        for human in humans { await world.humanLeaves(human) }
        _ = await SimulatedWorld.waitFor(seconds: 30) { log.text.components(separatedBy: "tick p50").count > calls }
        child.interrupt()
        child.waitUntilExit()

        let speechSamples = try WAVReader.read(path: speech).samples
        let floor = try LibraryFloor.measure(speech: speechSamples, frames: 3000)
        print(
            String(
                format:
                    "library floor per call-frame: %.1f µs (Opus decode %.1f, Ogg Opus encode %.1f, Ogg Opus decode %.1f, "
                    + "resample %.1f, Opus encode %.1f, transport+DAVE %.1f)",
                floor.total / 1000, floor.decodeOpus / 1000, floor.oggEncode / 1000, floor.oggDecode / 1000,
                floor.resample / 1000, floor.encodeOpus / 1000, floor.crypto / 1000))
        print(
            String(
                format: "ratio router / floor: %.2fx; seed's Python path (~1000 µs per call-frame) / router: %.1fx",
                perFrame / (floor.total / 1000), 1000 / perFrame))
        print("frames heard per user: min \(heard.min() ?? 0), max \(heard.max() ?? 0)")
        let ticks = log.lines.filter { $0.contains("tick p50") }
        let p99s = ticks.compactMap { line -> Double? in
            guard let range = line.range(of: "p99 ") else { return nil }
            return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        }
        print("sessions summarised: \(ticks.count); tick p99 over sessions: max \(p99s.max() ?? 0) µs")
        if let first = log.summaryBlock() { print("first session's summary:\n\(first)") }
        await world.shutdown()
    }
}

/// utime + stime of a process, in nanoseconds (from /proc/PID/stat; clock-tick resolution).
func processCPU(_ pid: Int32) -> Int64 {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After "(comm)": state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
    guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return 0 }
    return (user + system) * 1_000_000_000 / Int64(sysconf(Int32(_SC_CLK_TCK)))
}

/// The child's standard error, line by line.
final class Lines: Sendable {
    private let state = Mutex<(buffer: Data, lines: [String])>((Data(), []))

    func append(_ data: Data) {
        state.withLock { state in
            state.buffer.append(data)
            while let newline = state.buffer.firstIndex(of: 0x0A) {
                state.lines.append(String(decoding: state.buffer[state.buffer.startIndex..<newline], as: UTF8.self))
                state.buffer.removeSubrange(state.buffer.startIndex...newline)
            }
        }
    }

    var lines: [String] { state.withLock { $0.lines } }
    var text: String { lines.joined(separator: "\n") }

    /// The first logged session summary (from "voice session ended" to the "voice:" line).
    func summaryBlock() -> String? {
        let all = lines
        guard let start = all.firstIndex(where: { $0.contains("tick p50") }) else { return nil }
        let end = all[start...].firstIndex { $0.hasPrefix("voice:") } ?? min(all.count - 1, start + 30)
        return all[start...end].joined(separator: "\n")
    }
}
