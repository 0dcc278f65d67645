import Discord
import DiscordSimulator
import Foundation
import Logging
import Realtime
import Synchronization
import XCTest

/// Every log line the client printed, for the token canary and message checks.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }
    var text: String { all.joined(separator: "\n") }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    func logger(_ label: String = "discord.test") -> Logger {
        var logger = Logger(label: label) { label in CaptureHandler(label: label, sink: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CaptureHandler: LogHandler {
    let label: String
    let sink: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        sink.append("\(event.level) \(label): \(event.message) \(rendered)")
    }
}

/// A scheduler whose time moves only when a test advances it; sleepers wake when their deadline passes.
final class ManualScheduler: GatewayScheduler {
    let manual = ManualClock()
    private let sleepers = Mutex<[(deadline: UInt64, continuation: CheckedContinuation<Void, any Error>)]>([])

    var clock: any MonotonicClock { manual }

    func sleep(until deadline: UInt64) async throws {
        if deadline <= manual.nowNanoseconds() { return }
        try await withCheckedThrowingContinuation { continuation in
            sleepers.withLock { $0.append((deadline, continuation)) }
        }
    }

    var sleeperCount: Int { sleepers.withLock { $0.count } }

    /// Advances time and wakes every sleeper whose deadline passed.
    func advance(milliseconds: UInt64) {
        manual.advance(nanoseconds: milliseconds * 1_000_000)
        let now = manual.nowNanoseconds()
        let due = sleepers.withLock { list in
            let ready = list.filter { $0.deadline <= now }
            list.removeAll { $0.deadline <= now }
            return ready
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Wakes everyone with cancellation (test teardown).
    func cancelAll() {
        let all = sleepers.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for sleeper in all { sleeper.continuation.resume(throwing: CancellationError()) }
    }
}

/// A simulator plus a client pointed at it.
struct Harness {
    let simulator: DiscordSimulator
    let serverTask: Task<Void, any Error>
    let log: CapturedLog
    private let clients = ClientList()

    /// Clients made by the harness, shut down at teardown even when a test fails early
    /// (AsyncHTTPClient requires a shutdown before deinit).
    final class ClientList: Sendable {
        let clients = Mutex<[DiscordClient]>([])
    }

    static let token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.CANARY.token-canary-do-not-print-9f3a"

    static func start(
        _ test: XCTestCase,
        _ configure: (inout SimulatorConfiguration) -> Void = { _ in }
    ) async throws -> Harness {
        var configuration = SimulatorConfiguration(botToken: token)
        configuration.heartbeatIntervalMillis = 5_000
        configure(&configuration)
        let log = CapturedLog()
        let simulator = DiscordSimulator(configuration: configuration, logger: log.logger("simulator"))
        let task = try await simulator.start()
        let harness = Harness(simulator: simulator, serverTask: task, log: log)
        test.addTeardownBlock { await harness.stop() }
        return harness
    }

    func clientConfiguration(token: String = Harness.token) throws -> DiscordConfiguration {
        var configuration = try DiscordConfiguration.fromEnvironment([
            "DISCORD_TOKEN": token, "DISCORD_API_BASE": simulator.apiBase,
        ])
        configuration.reconnectDelay = .milliseconds(50)
        configuration.maxReconnectDelay = .milliseconds(400)
        return configuration
    }

    func makeClient(
        token: String = Harness.token,
        configure: (inout DiscordConfiguration) -> Void = { _ in }
    ) throws -> DiscordClient {
        var configuration = try clientConfiguration(token: token)
        configure(&configuration)
        let client = try DiscordClient(
            configuration: configuration, logger: log.logger("client"),
            voiceTimeout: .seconds(5))
        clients.clients.withLock { $0.append(client) }
        return client
    }

    func stop() async {
        for client in clients.clients.withLock({ $0 }) { await client.shutdown() }
        serverTask.cancel()
        _ = try? await serverTask.value
    }
}

/// Collects a client's events as they arrive.
final class EventRecorder: Sendable {
    private final class Box: Sendable {
        let events = Mutex<[DiscordEvent]>([])
    }
    private let box = Box()
    private let task: Task<Void, Never>

    init(_ client: DiscordClient) {
        let box = self.box
        task = Task {
            for await event in client.events { box.events.withLock { $0.append(event) } }
        }
    }

    var all: [DiscordEvent] { box.events.withLock { $0 } }

    var messageContents: [String] {
        all.compactMap { if case let .messageCreate(message) = $0 { return message.content } else { return nil } }
    }

    func count(where predicate: (DiscordEvent) -> Bool) -> Int { all.filter(predicate).count }
}

func eventually(
    _ description: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line,
    _ condition: () -> Bool
) async {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return }
        try? await Task.sleep(for: .milliseconds(10))
    }
    XCTAssertTrue(condition(), "timed out waiting for \(description)", file: file, line: line)
}

extension DiscordEvent {
    var isReady: Bool { if case .ready = self { return true } else { return false } }
    var isResumed: Bool { if case .resumed = self { return true } else { return false } }
    var isGuildCreate: Bool { if case .guildCreate = self { return true } else { return false } }
}
