import Realtime

/// The PCM lanes linked into one input port (several when the port accepts many links).
public struct PCMInput {
    public let lanes: [PCMLane]
    public var isLinked: Bool { !lanes.isEmpty }
    /// The single linked lane's frame this tick, if any.
    @inline(__always) public var frame: UnsafeBufferPointer<Float>? { lanes.first?.frame }
    /// True when every linked lane has ended (and there is at least one).
    public var allEnded: Bool { !lanes.isEmpty && lanes.allSatisfy(\.ended) }
}

/// The packet lanes (Opus, Ogg, text) linked into one input port.
public struct PacketInput {
    public let lanes: [PacketLane]
    public var isLinked: Bool { !lanes.isEmpty }
    public var allEnded: Bool { !lanes.isEmpty && lanes.allSatisfy(\.ended) }

    /// Calls `body` for every item produced this tick on every linked lane, in link order.
    @inline(__always)
    public func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        for lane in lanes {
            for i in 0..<lane.count { try body(lane[i]) }
        }
    }
}

/// The per-speaker stream lanes linked into one input port.
public struct PCMStreamsInput {
    public let lanes: [PCMStreamsLane]
    public var isLinked: Bool { !lanes.isEmpty }
    public var allEnded: Bool { !lanes.isEmpty && lanes.allSatisfy(\.ended) }
}

/// The event lanes linked into one input port; events emitted in the previous tick.
public struct EventInput {
    public let lanes: [EventLane]
    public var isLinked: Bool { !lanes.isEmpty }

    public func forEach(_ body: (GraphEvent) throws -> Void) rethrows {
        for lane in lanes { for e in lane.events { try body(e) } }
    }
}

/// What a node's initialiser gets: its name, parameters, logger, metrics and typed access to its ports.
public final class NodeSetup {
    public let name: String
    public let typeName: String
    public let params: Parameters
    public let log: Logger
    public let metrics: NodeMetrics
    /// True when the session runs as fast as possible rather than in real time.
    public let runsFast: Bool
    /// The session's clock: nodes that time things (latency stamps, timeouts) read it instead of the system clock,
    /// so a test can drive them with a `ManualClock`.
    public let clock: any MonotonicClock
    /// What the session's host provides beyond the pipeline file (a voice connection, a chat sink).
    public let resources: SessionResources
    let inputs: [String: [Lane]]
    let outputs: [String: Lane]
    let tickObservers: TickObservers

    init(
        name: String, typeName: String, params: Parameters, runsFast: Bool, clock: any MonotonicClock,
        resources: SessionResources = SessionResources(), inputs: [String: [Lane]], outputs: [String: Lane],
        tickObservers: TickObservers = TickObservers()
    ) {
        self.name = name
        self.typeName = typeName
        self.params = params
        self.log = Logger(name)
        self.metrics = NodeMetrics(nodeName: name, typeName: typeName)
        self.runsFast = runsFast
        self.clock = clock
        self.resources = resources
        self.inputs = inputs
        self.outputs = outputs
        self.tickObservers = tickObservers
    }

    /// Calls `observer.tickDidEnd` once per tick, after every node of the session processed (see `TickObserver`).
    public func observeTickEnd(_ observer: any TickObserver) { tickObservers.register(observer) }

    /// The lanes linked into input `port` (empty when unlinked).
    public func pcmInput(_ port: String) -> PCMInput {
        PCMInput(lanes: (inputs[port] ?? []).compactMap { $0 as? PCMLane })
    }
    public func packetInput(_ port: String) -> PacketInput {
        PacketInput(lanes: (inputs[port] ?? []).compactMap { $0 as? PacketLane })
    }
    public func streamsInput(_ port: String) -> PCMStreamsInput {
        PCMStreamsInput(lanes: (inputs[port] ?? []).compactMap { $0 as? PCMStreamsLane })
    }
    public func eventInput(_ port: String) -> EventInput {
        EventInput(lanes: (inputs[port] ?? []).compactMap { $0 as? EventLane })
    }

    /// The lane behind output `port`. Outputs always exist, linked or not, so nodes can write unconditionally.
    public func pcmOutput(_ port: String) -> PCMLane { lane(port) }
    public func packetOutput(_ port: String) -> PacketLane { lane(port) }
    public func streamsOutput(_ port: String) -> PCMStreamsLane { lane(port) }
    public func eventOutput(_ port: String) -> EventLane { lane(port) }

    /// The format arriving on an input (nil when unlinked).
    public func inputFormat(_ port: String) -> MediaFormat? { inputs[port]?.first?.format }

    private func lane<L: Lane>(_ port: String) -> L {
        guard let lane = outputs[port] as? L else {
            preconditionFailure(
                "\(typeName) asked for output '\(port)' as \(L.self), which its port layout does not declare")
        }
        return lane
    }
}

/// One node in a built graph, with the lanes it reads and writes.
final class GraphNode {
    let name: String
    let typeName: String
    let node: any Node
    let metrics: NodeMetrics
    let outputs: [Lane]
    let mediaOutputs: [Lane]
    let mediaInputs: [Lane]
    let eventOutputs: [EventLane]
    var finished = false

    init(name: String, typeName: String, node: any Node, metrics: NodeMetrics, inputs: [Lane], outputs: [Lane]) {
        self.name = name
        self.typeName = typeName
        self.node = node
        self.metrics = metrics
        self.outputs = outputs
        self.mediaOutputs = outputs.filter { $0.format.kind != .event }
        self.mediaInputs = inputs.filter { $0.format.kind != .event }
        self.eventOutputs = outputs.compactMap { $0 as? EventLane }
    }
}

/// Creates a lane for an output of the given format.
func makeLane(_ format: MediaFormat, label: String) -> Lane {
    switch format.kind {
    case .pcm: return PCMLane(pcm: format.pcm!, label: label)
    case .pcmStreams: return PCMStreamsLane(pcm: format.pcm!, capacity: 32, label: label)
    case .opus, .ogg, .text: return PacketLane(format: format, label: label)
    case .event: return EventLane(label: label)
    }
}

/// A validated pipeline turned into live node instances connected by lanes.
public final class Graph {
    let nodes: [GraphNode]
    /// Every output lane by `node.port`.
    public let lanes: [String: Lane]
    /// The session's own events (`sessionStarted`, `sessionStopping`). They reach every event input of every node,
    /// linked or not, ahead of the events of its links: a LogTap on any event edge shows them.
    public let sessionEvents: EventLane
    public let pipeline: ValidatedPipeline
    /// The clock every node and the session read (`SystemClock.shared` unless a test injects a `ManualClock`).
    public let clock: any MonotonicClock
    /// The nodes' `TickObserver`s, which `Session.tick()` calls after the last node.
    let tickObservers: TickObservers

    /// Instantiates every node. A node that cannot be created (missing file, bad device) is reported by name.
    /// - Parameter resources: what the host gives the nodes (empty for a plain `router run`).
    public init(
        _ pipeline: ValidatedPipeline, clock: any MonotonicClock = SystemClock.shared,
        resources: SessionResources = SessionResources()
    ) throws {
        self.pipeline = pipeline
        self.clock = clock
        let sessionEvents = EventLane(label: "session.events")
        self.sessionEvents = sessionEvents
        let tickObservers = TickObservers()
        self.tickObservers = tickObservers
        var lanes: [String: Lane] = [:]
        for node in pipeline.nodes {
            for output in node.layout.outputs {
                let label = "\(node.name).\(output.name)"
                // Every output gets a lane, linked or not, so nodes can write unconditionally. A PCM lane needs its
                // format; validation refuses a pass-through PCM output whose input is unlinked, so this only guards
                // against a pipeline that was not validated.
                let format: MediaFormat
                if let resolved = node.outputFormats[output.name] {
                    format = resolved
                } else if output.kind.carriesPCM {
                    throw SessionError.nodeFailed(
                        node: node.name, type: node.type.typeName,
                        reason: "the format of output '\(output.name)' is unknown (its input is not linked)")
                } else {
                    format = MediaFormat(output.kind)
                }
                lanes[label] = makeLane(format, label: label)
            }
        }
        var built: [GraphNode] = []
        for node in pipeline.nodes {
            var inputs: [String: [Lane]] = [:]
            for input in node.layout.inputs where input.kind == .event { inputs[input.name] = [sessionEvents] }
            for link in pipeline.links where link.toNode == node.name {
                if let lane = lanes["\(link.fromNode).\(link.fromPort)"] {
                    inputs[link.toPort, default: []].append(lane)
                }
            }
            var outputs: [String: Lane] = [:]
            for output in node.layout.outputs { outputs[output.name] = lanes["\(node.name).\(output.name)"] }
            let setup = NodeSetup(
                name: node.name, typeName: node.type.typeName, params: node.params,
                runsFast: pipeline.runsFast, clock: clock, resources: resources, inputs: inputs, outputs: outputs,
                tickObservers: tickObservers)
            let instance: any Node
            do {
                instance = try node.type.init(setup)
            } catch {
                throw SessionError.nodeFailed(node: node.name, type: node.type.typeName, reason: "\(error)")
            }
            built.append(
                GraphNode(
                    name: node.name, typeName: node.type.typeName, node: instance, metrics: setup.metrics,
                    inputs: inputs.values.flatMap { $0 }, outputs: node.layout.outputs.compactMap { outputs[$0.name] }))
        }
        self.nodes = built
        self.lanes = lanes
    }

    /// The node instance called `name`, for tests and tools.
    public func node(named name: String) -> (any Node)? { nodes.first { $0.name == name }?.node }

    /// Per-node metrics in data-path order.
    public var metrics: [NodeMetrics] { nodes.map(\.metrics) }

    /// Node names and instances in data-path order.
    public var namedNodes: [(name: String, node: any Node)] { nodes.map { ($0.name, $0.node) } }
}
