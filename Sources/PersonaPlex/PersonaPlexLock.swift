import Foundation

/// A small mutex for state shared between the event loop and the caller's threads.
/// Held only for a few field updates or a buffer swap, never across I/O.
final class PersonaPlexLock: @unchecked Sendable {
    private let mutex = NSLock()

    @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body()
    }
}

/// A value guarded by a `PersonaPlexLock`.
final class PersonaPlexLockedValue<Value>: @unchecked Sendable {
    private let lock = PersonaPlexLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&value) }
    }

    var current: Value { lock.withLock { value } }
}
