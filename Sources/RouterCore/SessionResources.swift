/// Live objects a host hands one session's nodes: the voice connection's queues, a chat sink for the AI's text.
/// The engine only carries them (it names no transport); a node looks up the type it adapts, and refuses to start
/// with a clear message when its host did not provide it (`router run` of a Discord pipeline outside the bot).
public struct SessionResources: @unchecked Sendable {
    // @unchecked: holds only values whose types are Sendable (enforced by `insert`), behind `Any`.
    private var values: [ObjectIdentifier: Any] = [:]

    public init() {}

    /// Adds (or replaces) the resource of type `T`.
    public mutating func insert<T: Sendable>(_ value: T) { values[ObjectIdentifier(T.self)] = value }

    /// The resource of type `T`, when the host gave one.
    public func get<T: Sendable>(_ type: T.Type = T.self) -> T? { values[ObjectIdentifier(T.self)] as? T }

    /// Whether nothing was given (a plain `router run`).
    public var isEmpty: Bool { values.isEmpty }
}
