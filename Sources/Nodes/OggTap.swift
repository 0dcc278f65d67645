import Foundation
import RouterCore

/// Tap: records an Ogg Opus edge byte for byte to a `.opus` file that any player opens (a restarted stream becomes a
/// chained Ogg file, which players handle). It only reads its input, and a file it cannot create or write never
/// disturbs the flow: the error is logged once with the path, counted in the node's errors, and the tap stops recording.
public final class OggTap: NodeType {
    public static let typeName = "OggTap"
    public static let summary = "Tap: record an Ogg Opus edge to a .opus file, byte for byte."
    private enum Param {
        static let path: ParameterKey<String?> = .requiredPath(
            "path", "The .opus file to write (replaced if it exists).")
    }
    public static let parameters = [Param.path.spec]

    public static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(inputs: [InputSpec("in", .ogg, doc: "The Ogg Opus edge to record.")])
    }

    private let input: PacketInput
    /// The open file; nil once recording has stopped (never opened, failed, or closed).
    private var file: UnsafeMutablePointer<FILE>?
    private let path: String
    private let log: Logger
    private let metrics: NodeMetrics
    private var bytes = 0
    /// True while the tap is recording (false after an I/O error or once stopped).
    public var isRecording: Bool { file != nil }

    public init(_ setup: NodeSetup) throws {
        input = setup.packetInput("in")
        log = setup.log
        metrics = setup.metrics
        guard let path = setup.params[Param.path] else {
            self.path = ""
            fail("path is empty")  // a tap never stops the graph: logged, counted, nothing recorded
            return
        }
        self.path = path
        do {
            try createParentDirectory(of: path)
            guard let f = fopen(path, "wb") else {
                throw NodeError("cannot create '\(path)': \(String(cString: strerror(errno)))")
            }
            file = f
        } catch {
            fail("\(error)")
        }
    }

    public func process(_ tick: Tick) throws {
        guard let file else { return }
        input.forEach { chunk in
            guard chunk.count > 0, self.file != nil else { return }
            guard fwrite(chunk.baseAddress!, 1, chunk.count, file) == chunk.count else {
                fail("cannot write '\(path)': \(String(cString: strerror(errno)))")
                return
            }
            bytes += chunk.count
        }
    }

    public func stop() {
        guard let file else { return }
        self.file = nil
        if fclose(file) == 0 {
            log.info("wrote \(path) (\(bytes) bytes)")
        } else {
            fail("cannot finish '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// Logs the error, counts it, and stops recording; the graph goes on.
    private func fail(_ message: String) {
        metrics.errors += 1
        log.error("\(message); the tap stops recording, the rest of the graph goes on")
        if let file { fclose(file) }
        file = nil
    }
}
