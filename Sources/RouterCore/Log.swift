import Foundation
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
/// Threads inside `queueingLines(_:)` (the session's audio thread) never wait for the log: their lines go into a
/// bounded lock-free queue that a background thread writes out; when it is full a line is dropped and counted, and
/// the count is reported when the scope ends. Every other thread writes synchronously, after the queued lines, so
/// lines appear in the order they were logged. Leaving the scope writes everything still queued.
public final class RouterLog: @unchecked Sendable {
    public static let shared = RouterLog()

    private let minimumLevel = Atomic<Int>(LogLevel.info.rawValue)
    /// Serialises writing: the sink, the secrets, and taking lines out of the queue.
    private let writeLock = NSLock()
    private var sink: (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    private var secrets: [String] = []
    private let queue: LogQueue
    private let queued = DispatchSemaphore(value: 0)
    private let writerStarted = Atomic<Bool>(false)
    private let dropped = Atomic<Int>(0)
    /// Dropped lines already reported (guarded by `writeLock`).
    private var reportedDrops = 0

    /// A log whose audio-thread queue holds `queueCapacity` lines (rounded up to a power of two).
    public init(queueCapacity: Int = 1024) {
        queue = LogQueue(capacity: queueCapacity)
    }

    public var level: LogLevel {
        get { LogLevel(rawValue: minimumLevel.load(ordering: .relaxed)) ?? .info }
        set { minimumLevel.store(newValue.rawValue, ordering: .relaxed) }
    }

    /// Lines dropped so far because the audio-thread queue was full.
    public var droppedLines: Int { dropped.load(ordering: .relaxed) }

    /// Sends lines to `sink` instead of standard error (tests capture logs this way). Queued lines go to the old sink.
    public func setSink(_ sink: @escaping (String) -> Void) {
        writeLock.withLock {
            writeQueuedLines()
            self.sink = sink
        }
    }

    /// Registers a secret (a token) so that it is replaced by `[redacted]` in every line.
    public func redact(_ secret: String) {
        guard secret.count >= 4 else { return }
        writeLock.withLock { secrets.append(secret) }
    }

    public func log(_ level: LogLevel, _ source: String, _ message: String) {
        guard level.rawValue >= minimumLevel.load(ordering: .relaxed) else { return }
        if AudioThreadMark.isSet {
            if queue.push(LogQueue.Entry(level: level, source: source, message: message)) {
                queued.signal()
            } else {
                dropped.add(1, ordering: .relaxed)
            }
            return
        }
        writeLock.withLock {
            writeQueuedLines()
            write(level, source, message)
        }
    }

    /// Runs `body` with this thread's lines queued instead of written (it never waits for the log), then writes every
    /// queued line and reports lines dropped meanwhile. Sessions run their ticks inside it.
    public func queueingLines<T>(_ body: () throws -> T) rethrows -> T {
        startWriterThread()
        let wasMarked = AudioThreadMark.isSet
        AudioThreadMark.isSet = true
        defer {
            AudioThreadMark.isSet = wasMarked
            if !wasMarked { flush() }
        }
        return try body()
    }

    /// Writes every queued line now, then reports dropped lines not yet reported.
    public func flush() {
        writeLock.withLock {
            writeQueuedLines()
            let total = dropped.load(ordering: .relaxed)
            if total > reportedDrops {
                write(.warning, "log", "\(total - reportedDrops) line(s) dropped: the audio thread's log queue was full")
                reportedDrops = total
            }
        }
    }

    /// Caller holds `writeLock`.
    private func writeQueuedLines() {
        while let entry = queue.pop() { write(entry.level, entry.source, entry.message) }
    }

    /// Caller holds `writeLock`.
    private func write(_ level: LogLevel, _ source: String, _ message: String) {
        var line = "[\(level.label)] \(source): \(message)"
        for s in secrets where line.contains(s) { line = line.replacingOccurrences(of: s, with: "[redacted]") }
        sink(line)
    }

    private func startWriterThread() {
        guard writerStarted.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        let thread = Thread { [self] in
            while true {
                queued.wait()
                writeLock.withLock { writeQueuedLines() }
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

/// Whether the calling thread queues its log lines (a per-thread flag; reading it neither locks nor allocates).
enum AudioThreadMark {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var isSet: Bool {
        get { pthread_getspecific(key) != nil }
        set { pthread_setspecific(key, newValue ? UnsafeRawPointer(bitPattern: 1) : nil) }
    }
}

/// A bounded multi-producer queue of log lines (Vyukov's array queue): producers claim a slot with one
/// compare-and-swap and never wait; a full queue refuses the line. Lines come out in the order their slots were
/// claimed. `pop` must be serialised by the caller.
final class LogQueue: @unchecked Sendable {
    struct Entry {
        var level: LogLevel
        var source: String
        var message: String
    }

    private final class Slot: @unchecked Sendable {
        /// Equals the slot's position when free for that position, position + 1 when it holds that position's entry.
        let sequence: Atomic<Int>
        var entry: Entry?
        init(_ position: Int) { sequence = Atomic(position) }
    }

    private let slots: [Slot]
    private let mask: Int
    private let enqueuePosition = Atomic<Int>(0)
    private var dequeuePosition = 0

    init(capacity: Int) {
        var size = 2
        while size < capacity { size *= 2 }
        slots = (0..<size).map(Slot.init)
        mask = size - 1
    }

    /// Adds a line; false (nothing added) when the queue is full. Never blocks.
    func push(_ entry: Entry) -> Bool {
        var position = enqueuePosition.load(ordering: .relaxed)
        while true {
            let slot = slots[position & mask]
            let difference = slot.sequence.load(ordering: .acquiring) - position
            if difference == 0 {
                let (claimed, current) = enqueuePosition.compareExchange(expected: position, desired: position + 1, ordering: .relaxed)
                if claimed {
                    slot.entry = entry
                    slot.sequence.store(position + 1, ordering: .releasing)
                    return true
                }
                position = current
            } else if difference < 0 {
                return false
            } else {
                position = enqueuePosition.load(ordering: .relaxed)
            }
        }
    }

    /// The oldest line, or nil when none is ready. Callers serialise `pop`.
    func pop() -> Entry? {
        let slot = slots[dequeuePosition & mask]
        guard slot.sequence.load(ordering: .acquiring) == dequeuePosition + 1 else { return nil }
        let entry = slot.entry
        slot.entry = nil
        slot.sequence.store(dequeuePosition + slots.count, ordering: .releasing)
        dequeuePosition += 1
        return entry
    }
}
