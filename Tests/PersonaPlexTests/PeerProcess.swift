import Foundation

/// The model-free PersonaPlex peer (`Tests/peers/personaplex_peer.py`) running as a child process.
/// Reads its stdout on a background thread: `READY port=N` once, then one `STATS {json}` per session.
// @unchecked: `process`, `stdin` and `reader` are set in init and only read after; `output` is a Locked.
final class PeerProcess: @unchecked Sendable {
    let port: Int
    private let process = Process()
    private let stdin = Pipe()
    private let output = Locked<[String]>([])
    private let reader: Thread

    init(_ arguments: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Repository.python.path) else {
            throw TestSupportError("\(Repository.python.path) missing: run `bash scripts/setup.sh --with-peers`")
        }
        process.executableURL = Repository.python
        process.arguments =
            [
                "-u", Repository.peerScript.path, "--host", "127.0.0.1", "--port", "0",
                "--exit-on-stdin-eof",
            ] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = stdin
        let handle = pipe.fileHandleForReading
        let output = self.output
        reader = Thread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    output.withLock { $0.append(line) }
                }
            }
        }
        try process.run()
        reader.start()
        let deadline = Date().addingTimeInterval(20)
        var found: Int?
        while found == nil {
            found = output.current.first { $0.hasPrefix("READY port=") }.flatMap { Int($0.dropFirst(11)) }
            if found == nil {
                guard process.isRunning, Date() < deadline else {
                    process.terminate()
                    throw TestSupportError("the PersonaPlex peer did not start (args: \(arguments))")
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        port = found!
    }

    /// The `STATS` objects printed so far, in session order.
    var sessionStats: [[String: Any]] {
        output.current.compactMap { line in
            guard line.hasPrefix("STATS ") else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any]
        }
    }

    /// Waits until at least `count` sessions reported their stats.
    func waitForSessionStats(count: Int, timeout: Double = 5) async throws -> [[String: Any]] {
        try await waitUntil("\(count) peer session reports", timeout: timeout) { sessionStats.count >= count }
        return sessionStats
    }

    /// Stops the peer: closing its stdin makes it exit; SIGKILL if it is still there after 2 s.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// Integer field of a peer STATS object (JSON numbers arrive as NSNumber or Int).
func statInt(_ stats: [String: Any], _ key: String) -> Int {
    (stats[key] as? NSNumber)?.intValue ?? (stats[key] as? Int) ?? -1
}
