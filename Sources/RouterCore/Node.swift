import Realtime

/// What a PCM input accepts.
public enum PCMRequirement: Hashable, Sendable {
    /// Any rate and channel count (the node adapts, or passes the format through).
    case any
    /// Exactly this format.
    case exact(PCMFormat)
}

/// A declared input port.
public struct InputSpec: Sendable {
    public var name: String
    public var kind: MediaKind
    public var requirement: PCMRequirement
    /// Validation fails when a required input is not linked.
    public var isRequired: Bool
    /// Whether several links may feed this port (a mixer's input); otherwise a second link is an error.
    public var acceptsMany: Bool
    public var doc: String

    public init(
        _ name: String, _ kind: MediaKind, _ requirement: PCMRequirement = .any,
        required: Bool = true, many: Bool = false, doc: String
    ) {
        self.name = name
        self.kind = kind
        self.requirement = requirement
        self.isRequired = required
        self.acceptsMany = many
        self.doc = doc
    }
}

/// How an output port's format is determined.
public enum OutputFormatRule: Hashable, Sendable {
    /// Known from the node's parameters.
    case fixed(MediaFormat)
    /// The format arriving on the named input (pass-through nodes).
    case sameAsInput(String)
}

/// A declared output port.
public struct OutputSpec: Sendable {
    public var name: String
    public var kind: MediaKind
    public var rule: OutputFormatRule
    public var doc: String

    public init(_ name: String, _ format: MediaFormat, doc: String) {
        self.name = name
        self.kind = format.kind
        self.rule = .fixed(format)
        self.doc = doc
    }

    public init(_ name: String, _ kind: MediaKind, sameAs input: String, doc: String) {
        self.name = name
        self.kind = kind
        self.rule = .sameAsInput(input)
        self.doc = doc
    }
}

/// The ports of one node instance (they may depend on its parameters).
public struct PortLayout: Sendable {
    public var inputs: [InputSpec]
    public var outputs: [OutputSpec]

    public init(inputs: [InputSpec] = [], outputs: [OutputSpec] = []) {
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The input used when a link names only the node: `in`, or the only input.
    public var defaultInput: InputSpec? {
        inputs.first { $0.name == "in" } ?? (inputs.count == 1 ? inputs[0] : nil)
    }

    /// The output used when a link names only the node: `out`, or the only output.
    public var defaultOutput: OutputSpec? {
        outputs.first { $0.name == "out" } ?? (outputs.count == 1 ? outputs[0] : nil)
    }
}

/// How a node wants the session clock to run.
public enum PacingPreference: Sendable {
    /// Works either way.
    case indifferent
    /// Needs wall-clock time (network peers, live devices).
    case realtime
    /// Would like to run as fast as possible (file processing).
    case fast
}

/// One 20 ms step of a session.
public struct Tick: Sendable {
    /// Ticks per second: the engine's one clock rate. Every PCM frame is one tick (1/50 s = 20 ms) long.
    public static let perSecond = 50
    /// One tick in nanoseconds (20 ms).
    public static let nanoseconds: UInt64 = Nanoseconds.perSecond / UInt64(perSecond)

    /// Whole ticks in `seconds`, rounded to the nearest (negative or NaN → 0; huge values are capped).
    public static func count(seconds: Double) -> Int64 {
        let ticks = (seconds * Double(perSecond)).rounded()
        guard ticks > 0 else { return 0 }
        return ticks >= Double(Int64.max / 2) ? Int64.max / 2 : Int64(ticks)
    }

    /// Session time of a tick count in seconds.
    public static func seconds(_ ticks: Int64) -> Double { Double(ticks) / Double(perSecond) }

    /// 0 for the first tick.
    public var index: Int64
    /// Session time at the start of the tick, in nanoseconds (index × 20 ms).
    public var sessionNanoseconds: UInt64 { UInt64(max(0, index)) &* Tick.nanoseconds }
    /// The session clock's time (`MonotonicClock` nanoseconds) when the tick began, for latency accounting.
    public var startNanos: UInt64

    public init(index: Int64, startNanos: UInt64 = 0) {
        self.index = index
        self.startNanos = startNanos
    }
}

/// A processing step in the graph. The runtime calls `process` once per tick, in data-path order, on the session's
/// audio thread; `process` must not block, and should not allocate once warmed up.
public protocol Node: AnyObject {
    /// Called once before the first tick (open files and sockets here).
    func start() throws
    /// Reads this tick's inputs and writes this tick's outputs.
    func process(_ tick: Tick) throws
    /// Called once when the session ends, whatever the reason (flush and close here).
    func stop()
    /// False while the node still holds buffered output after its inputs ended; the runtime keeps ticking until true.
    var isDrained: Bool { get }
}

public extension Node {
    func start() throws {}
    func stop() {}
    var isDrained: Bool { true }
}

/// A node type as the registry knows it: name, documentation, parameter schema, ports, and a constructor.
/// Adding a node type is one file conforming to this protocol plus one `register` line.
/// (`SendableMetatype`: the registry, a value shared between threads, holds the types themselves.)
public protocol NodeType: Node, SendableMetatype {
    /// The name used in pipeline files (`type: Mixer`).
    static var typeName: String { get }
    /// One line for `router nodes`.
    static var summary: String { get }
    static var parameters: [ParameterSpec] { get }
    /// The ports of an instance with these parameters.
    static func ports(_ params: Parameters) -> PortLayout
    /// Checks that need more than the schema (a file that must exist, params that conflict), each with a fix hint.
    static func check(_ params: Parameters) -> [NodeCheckProblem]
    /// How this instance wants the clock to run.
    static func pacing(_ params: Parameters) -> PacingPreference
    init(_ setup: NodeSetup) throws
}

public extension NodeType {
    static func check(_ params: Parameters) -> [NodeCheckProblem] { [] }
    static func pacing(_ params: Parameters) -> PacingPreference { .indifferent }
}

/// A problem a node type's `check` found in its parameters: which parameter, what is wrong, how to fix it.
public struct NodeCheckProblem: Sendable, Equatable {
    /// The parameter the problem is about ("" for the node as a whole); validation points at its value.
    public var parameter: String
    public var message: String
    /// What to do about it. Without one, validation says what the parameter expects (its type and documentation).
    public var hint: String?

    public init(_ parameter: String, _ message: String, hint: String? = nil) {
        self.parameter = parameter
        self.message = message
        self.hint = hint
    }
}

/// A node failure that ends the session; the runtime reports it with the node's name.
public struct NodeError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
