import Foundation

/// Log severity, least to most severe.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case debug, info, warning, error

    public var label: String {
        switch self {
        case .debug: return "debug"
        case .info: return "info"
        case .warning: return "warning"
        case .error: return "error"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The process-wide log: lines go to standard error, or to a capturing closure in tests. Logging is for events, not for
/// every frame; secrets registered with `redact` never appear in output.
public final class RouterLog: @unchecked Sendable {
    public static let shared = RouterLog()

    private let lock = NSLock()
    private var minimumLevel: LogLevel = .info
    private var sink: (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    private var secrets: [String] = []

    public var level: LogLevel {
        get { lock.withLock { minimumLevel } }
        set { lock.withLock { minimumLevel = newValue } }
    }

    /// Sends lines to `sink` instead of standard error (tests capture logs this way).
    public func setSink(_ sink: @escaping (String) -> Void) { lock.withLock { self.sink = sink } }

    /// Registers a secret (a token) so that it is replaced by `[redacted]` in every line.
    public func redact(_ secret: String) {
        guard secret.count >= 4 else { return }
        lock.withLock { secrets.append(secret) }
    }

    public func log(_ level: LogLevel, _ source: String, _ message: String) {
        lock.lock()
        defer { lock.unlock() }
        guard level >= minimumLevel else { return }
        var line = "[\(level.label)] \(source): \(message)"
        for s in secrets where line.contains(s) { line = line.replacingOccurrences(of: s, with: "[redacted]") }
        sink(line)
    }
}

/// A logger bound to one source (a node name, "session", "router").
public struct Logger: Sendable {
    public let source: String
    public init(_ source: String) { self.source = source }

    public func debug(_ message: @autoclosure () -> String) {
        if RouterLog.shared.level <= .debug { RouterLog.shared.log(.debug, source, message()) }
    }
    public func info(_ message: String) { RouterLog.shared.log(.info, source, message) }
    public func warning(_ message: String) { RouterLog.shared.log(.warning, source, message) }
    public func error(_ message: String) { RouterLog.shared.log(.error, source, message) }
}
