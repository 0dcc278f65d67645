import Foundation
import XCTest

/// Runs the built `router` binary as a subprocess and captures its output.
enum RouterBinary {
    /// The repository root (this file is Tests/RouterCLITests/CLISupport.swift).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let corpus = repoRoot.appendingPathComponent("Tests/fixtures/bad-pipelines")

    /// `router` (or `name`, e.g. `router-bench`) sits next to the test bundle in the build folder
    /// (`swift build --build-tests` builds them all).
    static func url(_ name: String = "router") throws -> URL {
        var candidates: [URL] = []
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent())
        }
        for dir in candidates {
            let router = dir.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: router.path) { return router }
        }
        // A missing binary fails the test: skipping would let every CLI test pass without running anything.
        let problem = RouterBinaryMissing(name: name, searched: candidates.map(\.path))
        XCTFail(problem.description)
        throw problem
    }

    /// Starts `router arguments` in `directory` without waiting, its output captured to files in `directory`.
    static func start(_ arguments: [String], in directory: URL, env: [String: String] = [:]) throws -> RunningRouter {
        let process = Process()
        process.executableURL = try url()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment(env)
        let stdout = directory.appendingPathComponent("router-\(UUID().uuidString).out")
        let stderr = directory.appendingPathComponent("router-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return RunningRouter(process: process, stdoutURL: stdout, stderrURL: stderr)
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A small, fixed environment: no pipeline variables leak in from the developer's shell.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "COLUMNS": "100"]
        if let home = ProcessInfo.processInfo.environment["HOME"] { env["HOME"] = home }
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs `router arguments` (or another binary of the package) in `directory` and waits for it (killing it after
    /// `timeout` seconds).
    static func run(
        _ arguments: [String], binary: String = "router", in directory: URL = repoRoot,
        env: [String: String] = [:], timeout: TimeInterval = 30
    ) throws -> Result {
        let process = Process()
        process.executableURL = try url(binary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment(env)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes while the process runs, so a chatty child cannot block on a full pipe.
        // @unchecked: each box is written by one reader block and read only after the group wait below.
        final class Box: @unchecked Sendable { var data = Data() }
        let outData = Box(), errData = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outData.data = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            XCTFail("router \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
            group.wait()
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData.data, as: UTF8.self),
            stderr: String(decoding: errData.data, as: UTF8.self))
    }
}

/// The `router` executable was not built next to the test bundle.
struct RouterBinaryMissing: Error, CustomStringConvertible {
    var name: String
    var searched: [String]
    var description: String {
        "\(name) binary not found next to the tests (looked in \(searched)); build it with `swift build --build-tests` (make test does)"
    }
}

/// A `router` process started by `RouterBinary.start`, with its output going to files.
struct RunningRouter {
    let process: Process
    let stdoutURL: URL
    let stderrURL: URL

    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }

    /// Waits until stderr contains `text`; false after `timeout` seconds or if the process ended first.
    func waitForLog(_ text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Waits for the process to exit (killing it after `timeout` seconds, which fails the test); returns its status.
    func waitForExit(timeout: TimeInterval) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            XCTFail("router did not exit within \(timeout) s; killing it")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The sizes a WAV file's header declares beside the file's real size, to check that the header was patched at the end.
struct WAVHeaderSizes {
    var fileSize: Int
    /// The RIFF chunk size: must equal fileSize - 8.
    var riffSize: Int
    /// The data chunk's declared size, and the bytes actually present after its header.
    var dataSize: Int
    var dataBytesPresent: Int

    init(_ url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        func u32(_ at: Int) -> Int {
            Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        guard bytes.count >= 12, String(decoding: bytes[0..<4], as: UTF8.self) == "RIFF" else {
            throw NSError(
                domain: "wav", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(url.path) is not a RIFF file"])
        }
        fileSize = bytes.count
        riffSize = u32(4)
        var at = 12
        while at + 8 <= bytes.count {
            let id = String(decoding: bytes[at..<(at + 4)], as: UTF8.self), size = u32(at + 4)
            if id == "data" {
                dataSize = size
                dataBytesPresent = bytes.count - (at + 8)
                return
            }
            at += 8 + size + (size & 1)
        }
        throw NSError(domain: "wav", code: 2, userInfo: [NSLocalizedDescriptionKey: "no data chunk in \(url.path)"])
    }
}

/// Writes a 16-bit PCM WAV file (a ramp, so content can be compared) and returns its samples.
@discardableResult
func writeTestWAV(to url: URL, sampleRate: Int, channels: Int, framesPerChannel: Int) throws -> [Int16] {
    var samples: [Int16] = []
    for i in 0..<(framesPerChannel * channels) { samples.append(Int16(truncatingIfNeeded: (i * 37) % 20_000 - 10_000)) }
    var data = Data()
    func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { data.append(contentsOf: $0) } }
    func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { data.append(contentsOf: $0) } }
    data.append(contentsOf: Array("RIFF".utf8))
    u32(36 + samples.count * 2)
    data.append(contentsOf: Array("WAVEfmt ".utf8))
    u32(16)
    u16(1)
    u16(channels)
    u32(sampleRate)
    u32(sampleRate * channels * 2)
    u16(channels * 2)
    u16(16)
    data.append(contentsOf: Array("data".utf8))
    u32(samples.count * 2)
    for s in samples { withUnsafeBytes(of: s.littleEndian) { data.append(contentsOf: $0) } }
    try data.write(to: url)
    return samples
}

/// The 16-bit samples of a PCM16 WAV file written by the router (data chunk located by scanning the chunks).
func readPCM16WAV(_ url: URL) throws -> (channels: Int, sampleRate: Int, samples: [Int16]) {
    let bytes = [UInt8](try Data(contentsOf: url))
    func u32(_ at: Int) -> Int {
        Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
    }
    func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    var at = 12, channels = 0, rate = 0
    while at + 8 <= bytes.count {
        let id = String(decoding: bytes[at..<(at + 4)], as: UTF8.self), size = u32(at + 4)
        if id == "fmt " {
            channels = u16(at + 10)
            rate = u32(at + 12)
        }
        if id == "data" {
            let body = bytes[(at + 8)..<min(bytes.count, at + 8 + size)]
            var samples: [Int16] = []
            var i = body.startIndex
            while i + 1 < body.endIndex {
                samples.append(Int16(bitPattern: UInt16(body[i]) | UInt16(body[i + 1]) << 8))
                i += 2
            }
            return (channels, rate, samples)
        }
        at += 8 + size + (size & 1)
    }
    throw NSError(domain: "wav", code: 1, userInfo: [NSLocalizedDescriptionKey: "no data chunk in \(url.path)"])
}

/// A fresh temporary folder, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("router-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}
