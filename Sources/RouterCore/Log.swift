import Foundation
import Realtime
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
///
/// Threads inside `queueingLines(_:)` (the session's tick thread) never wait for the log: each such thread gets its
/// own `RealtimeRing` of lines (it is the ring's one producer; whoever holds the writer lock is its one consumer), which
/// a background thread writes out; when it is full a line is dropped and counted, and the count is reported when the
/// scope ends. Every other thread writes synchronously, after the queued lines, so lines appear in the order they were
/// logged. Leaving the scope writes everything still queued.
public final class RouterLog: Sendable {
    public static let shared = RouterLog()

    /// One queued line.
    struct Entry: Sendable {
        var level: LogLevel
        var source: String
        var message: String
    }
    typealias LineRing = RealtimeRing<Entry?>

    /// Everything the writer lock guards: the sink, the secrets, the rings to drain, the drops already reported.
    private struct Writer {
        var sink: @Sendable (String) -> Void
        var secrets: [String] = []
        var rings: [ObjectIdentifier: LineRing] = [:]
        var reportedDrops = 0
    }

    private let minimumLevel = Atomic<Int>(LogLevel.info.rawValue)
    private let writer: Mutex<Writer>
    private let queueCapacity: Int
    /// The calling thread's ring, when it is inside `queueingLines` (a per-thread slot; reading it neither locks nor
    /// allocates).
    private let threadRing: ThreadRingKey
    private let queued = DispatchSemaphore(value: 0)
    private let writerStarted = Atomic<Bool>(false)
    private let dropped = Atomic<Int>(0)

    /// A log whose queueing threads each hold up to `queueCapacity` lines.
    public init(queueCapacity: Int = 1024) {
        self.queueCapacity = max(1, queueCapacity)
        writer = Mutex(Writer(sink: { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }))
        threadRing = ThreadRingKey()
    }

    public var level: LogLevel {
        get { LogLevel(rawValue: minimumLevel.load(ordering: .relaxed)) ?? .info }
        set { minimumLevel.store(newValue.rawValue, ordering: .relaxed) }
    }

    /// Lines dropped so far because a queueing thread's ring was full.
    public var droppedLines: Int { dropped.load(ordering: .relaxed) }

    /// Sends lines to `sink` instead of standard error (tests capture logs this way). Queued lines go to the old sink.
    public func setSink(_ sink: @escaping @Sendable (String) -> Void) {
        writer.withLock { w in
            Self.writeQueuedLines(&w)
            w.sink = sink
        }
    }

    /// Registers a secret (a token) so that it is replaced by `[redacted]` in every line.
    public func redact(_ secret: String) {
        guard secret.count >= 4 else { return }
        writer.withLock { $0.secrets.append(secret) }
    }

    public func log(_ level: LogLevel, _ source: String, _ message: String) {
        guard level.rawValue >= minimumLevel.load(ordering: .relaxed) else { return }
        if let ring = threadRing.current {
            if ring.push(Entry(level: level, source: source, message: message)) {
                queued.signal()
            } else {
                dropped.add(1, ordering: .relaxed)
            }
            return
        }
        writer.withLock { w in
            Self.writeQueuedLines(&w)
            Self.write(&w, level, source, message)
        }
    }

    /// Runs `body` with this thread's lines queued instead of written (it never waits for the log), then writes every
    /// queued line and reports lines dropped meanwhile. Sessions run their ticks inside it.
    public func queueingLines<T>(_ body: () throws -> T) rethrows -> T {
        if threadRing.current != nil { return try body() }  // nested: the outer scope owns the ring
        startWriterThread()
        let ring = LineRing(capacity: queueCapacity)
        writer.withLock { $0.rings[ObjectIdentifier(ring)] = ring }
        threadRing.current = ring
        defer {
            threadRing.current = nil  // from here on this thread writes directly: nothing more enters the ring
            flush()
            writer.withLock { $0.rings[ObjectIdentifier(ring)] = nil }
        }
        return try body()
    }

    /// Writes every queued line now, then reports dropped lines not yet reported.
    public func flush() {
        writer.withLock { w in
            Self.writeQueuedLines(&w)
            let total = dropped.load(ordering: .relaxed)
            if total > w.reportedDrops {
                Self.write(
                    &w, .warning, "log",
                    "\(total - w.reportedDrops) line(s) dropped: the audio thread's log queue was full")
                w.reportedDrops = total
            }
        }
    }

    /// Caller holds the writer lock, which makes it the only consumer of every ring.
    private static func writeQueuedLines(_ w: inout Writer) {
        for ring in w.rings.values { drain(ring, into: &w) }
    }

    private static func drain(_ ring: LineRing, into w: inout Writer) {
        while let entry = ring.pop() { write(&w, entry.level, entry.source, entry.message) }
    }

    private static func write(_ w: inout Writer, _ level: LogLevel, _ source: String, _ message: String) {
        var line = "[\(level.label)] \(source): \(message)"
        for s in w.secrets where line.contains(s) { line = line.replacingOccurrences(of: s, with: "[redacted]") }
        w.sink(line)
    }

    private func startWriterThread() {
        guard writerStarted.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else {
            return
        }
        let thread = Thread { [self] in
            while true {
                queued.wait()
                writer.withLock { Self.writeQueuedLines(&$0) }
            }
        }
        thread.name = "router-log"
        thread.start()
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

/// A per-thread slot holding the calling thread's line ring while it is inside `queueingLines` (one pthread key per
/// log). Reading it is a `pthread_getspecific`: no lock, no allocation.
final class ThreadRingKey: Sendable {
    private let key: pthread_key_t

    init() {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        self.key = key
    }

    deinit { pthread_key_delete(key) }

    /// The calling thread's ring; setting it retains the ring until it is set back to nil.
    var current: RouterLog.LineRing? {
        get {
            guard let raw = pthread_getspecific(key) else { return nil }
            return Unmanaged<RouterLog.LineRing>.fromOpaque(raw).takeUnretainedValue()
        }
        set {
            if let old = pthread_getspecific(key) { Unmanaged<RouterLog.LineRing>.fromOpaque(old).release() }
            pthread_setspecific(key, newValue.map { UnsafeRawPointer(Unmanaged.passRetained($0).toOpaque()) })
        }
    }
}
