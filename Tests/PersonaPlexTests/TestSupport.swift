import Foundation
import PersonaPlex
import Synchronization
import XCTest

/// Errors raised by the test helpers themselves.
struct TestSupportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A value shared between a callback thread and the test.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
    var current: Value { withLock { $0 } }
}

/// Paths of the repository, found from this file.
enum Repository {
    static let root: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: "/work/main")
    }()
    static var python: URL { root.appendingPathComponent(".venv/bin/python") }
    static var peerScript: URL { root.appendingPathComponent("Tests/peers/personaplex_peer.py") }
}

/// Runs a command-line tool to completion; throws with its stderr if it fails.
@discardableResult
func runTool(_ tool: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    if let directory { process.currentDirectoryURL = directory }
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestSupportError(
            "\(tool) \(arguments.joined(separator: " ")) failed: "
                + String(decoding: errData, as: UTF8.self))
    }
    return String(decoding: outData, as: UTF8.self)
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
func waitUntil(_ what: String, timeout: Double, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline { throw TestSupportError("timed out after \(timeout) s waiting for \(what)") }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
}

/// Runs `body`, failing if it takes longer than `seconds`. On timeout the body is cancelled and left behind,
/// so a stuck await (e.g. on another task's value) cannot hang the test.
func withTimeout<T: Sendable>(
    _ seconds: Double, _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let claimed = Locked(false)
    let claim: @Sendable () -> Bool = {
        claimed.withLock { taken in
            defer { taken = true }
            return !taken
        }
    }
    return try await withCheckedThrowingContinuation { continuation in
        let work = Task {
            do {
                let value = try await body()
                if claim() { continuation.resume(returning: value) }
            } catch {
                if claim() { continuation.resume(throwing: error) }
            }
        }
        Task {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            if claim() {
                work.cancel()
                continuation.resume(throwing: TestSupportError("timed out after \(seconds) s: \(what)"))
            }
        }
    }
}

/// Records every state a client passes through.
final class StateRecorder: Sendable {
    let states = Locked<[PersonaPlexState]>([])
    var callback: @Sendable (PersonaPlexState) -> Void { { [states] state in states.withLock { $0.append(state) } } }
    func contains(_ state: PersonaPlexState) -> Bool { states.current.contains(state) }
}

/// Collects log lines from the injected logger.
final class LogRecorder: Sendable {
    let lines = Locked<[(PersonaPlexLogLevel, String)]>([])
    var logger: PersonaPlexLogger { { [lines] level, text in lines.withLock { $0.append((level, text)) } } }
    func messages(at level: PersonaPlexLogLevel) -> [String] { lines.current.filter { $0.0 == level }.map { $0.1 } }
}

/// A configuration for the local peer with short timeouts.
func peerConfiguration(
    port: Int, secure: Bool = false, voice: String = "NATF0.pt",
    prompt: String = "You enjoy having a good conversation."
) -> PersonaPlexConfiguration {
    var configuration = PersonaPlexConfiguration(
        endpoint: PersonaPlexEndpoint(secure: secure, host: "127.0.0.1", port: port),
        textPrompt: prompt, voicePrompt: voice)
    configuration.handshakeTimeout = 15
    configuration.waitingNotice = 0.3
    configuration.connectTimeout = 5
    return configuration
}

/// A TCP port nothing listens on (bound once, then released).
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
            guard bind(fd, pointer, length) == 0 else { return -1 }
            return getsockname(fd, pointer, &length)
        }
    }
    guard bound == 0 else { throw TestSupportError("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
