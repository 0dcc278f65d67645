import Foundation
import RouterCore

/// Tap: records an Ogg Opus edge byte for byte to a `.opus` file that any player opens (a restarted stream becomes a
/// chained Ogg file, which players handle). It only reads its input.
public final class OggTap: NodeType {
    public static let typeName = "OggTap"
    public static let summary = "Tap: record an Ogg Opus edge to a .opus file, byte for byte."
    public static let parameters: [ParameterSpec] = [
        .required("path", .path, "The .opus file to write (replaced if it exists)."),
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(inputs: [InputSpec("in", .ogg, doc: "The Ogg Opus edge to record.")])
    }

    private let input: PacketInput
    private let file: UnsafeMutablePointer<FILE>
    private let path: String
    private let log: Logger
    private var bytes = 0
    private var closed = false

    public init(_ setup: NodeSetup) throws {
        input = setup.packetInput("in")
        path = setup.params.path("path") ?? ""
        log = setup.log
        try createParentDirectory(of: path)
        guard let f = fopen(path, "wb") else {
            throw NodeError("cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
        file = f
    }

    public func process(_ tick: Tick) throws {
        try input.forEach { chunk in
            guard chunk.count > 0 else { return }
            guard fwrite(chunk.baseAddress!, 1, chunk.count, file) == chunk.count else {
                throw NodeError("cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
            bytes += chunk.count
        }
    }

    public func stop() {
        guard !closed else { return }
        closed = true
        fclose(file)
        log.info("wrote \(path) (\(bytes) bytes)")
    }
}
