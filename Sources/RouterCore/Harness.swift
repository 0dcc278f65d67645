/// Drives a single node deterministically, in the spirit of swift-nio's `EmbeddedChannel`: the test writes this tick's
/// inputs, calls `tick()`, and reads the outputs. No threads, no wall clock.
public final class NodeHarness<N: NodeType> {
    public let node: N
    public let metrics: NodeMetrics
    private let inputLanes: [String: Lane]
    private let outputLanes: [String: Lane]
    public private(set) var tickIndex: Int64 = 0

    /// Builds the node with `params` (YAML-style text values, parsed by the node's schema) and one harness-owned lane
    /// per input in `inputs` (port name → format).
    public init(params: [String: String] = [:], inputs: [String: MediaFormat] = [:], runsFast: Bool = true) throws {
        var parameters = NodeRegistry.defaults(of: N.self)
        for (key, text) in params {
            guard let spec = N.parameters.first(where: { $0.name == key }) else {
                throw NodeError("\(N.typeName) has no parameter '\(key)'")
            }
            switch spec.parse(text) {
            case .success(let v): parameters[key] = v
            case .failure(let problem): throw NodeError(problem.message)
            }
        }
        if let problem = N.check(parameters).first { throw NodeError(problem.message) }
        var ins: [String: Lane] = [:]
        for (port, format) in inputs { ins[port] = makeLane(format, label: "harness.\(port)") }
        let layout = N.ports(parameters)
        var outs: [String: Lane] = [:]
        for output in layout.outputs {
            let format: MediaFormat
            switch output.rule {
            case .fixed(let f): format = f
            case .sameAsInput(let input): format = MediaFormat(output.kind, pcm: inputs[input]?.pcm ?? .discord)
            }
            outs[output.name] = makeLane(format, label: "\(N.typeName).\(output.name)")
        }
        let setup = NodeSetup(name: N.typeName.lowercased(), typeName: N.typeName, params: parameters, runsFast: runsFast,
                              inputs: ins.mapValues { [$0] }, outputs: outs)
        node = try N(setup)
        metrics = setup.metrics
        inputLanes = ins
        outputLanes = outs
    }

    /// The harness-owned lane feeding input `port`; write it before `tick()`.
    public func pcmInput(_ port: String = "in") -> PCMLane { inputLanes[port] as! PCMLane }
    public func packetInput(_ port: String = "in") -> PacketLane { inputLanes[port] as! PacketLane }
    public func streamsInput(_ port: String) -> PCMStreamsLane { inputLanes[port] as! PCMStreamsLane }
    /// Events emitted here reach the node on the next `tick()`.
    public func eventInput(_ port: String) -> EventLane { inputLanes[port] as! EventLane }

    public func pcmOutput(_ port: String = "out") -> PCMLane { outputLanes[port] as! PCMLane }
    public func packetOutput(_ port: String = "out") -> PacketLane { outputLanes[port] as! PacketLane }
    public func eventOutput(_ port: String) -> EventLane { outputLanes[port] as! EventLane }

    /// Marks an input as ended (end of stream).
    public func endInput(_ port: String = "in") { inputLanes[port]?.finish() }

    /// Runs one 20 ms step, then clears the inputs for the next one.
    public func tick() throws {
        for lane in inputLanes.values { (lane as? EventLane)?.rotate() }
        for lane in outputLanes.values { lane.beginTick() }
        try node.process(Tick(index: tickIndex))
        for lane in outputLanes.values { (lane as? EventLane)?.rotate() }
        for lane in inputLanes.values where !(lane is EventLane) { lane.beginTick() }
        tickIndex += 1
    }
}

/// A whole pipeline driven tick by tick with virtual time, for tests of graphs.
public final class EmbeddedSession {
    public let session: Session
    public let pipeline: ValidatedPipeline

    public init(yaml: String, registry: NodeRegistry, environment: PipelineEnvironment = PipelineEnvironment([:]),
                file: String = "test.yaml") throws {
        pipeline = try PipelineValidator(registry: registry).validate(yaml: yaml, file: file, environment: environment)
        session = Session(graph: try Graph(pipeline))
        try session.start()
    }

    /// Output lane `node.port`.
    public func lane(_ label: String) -> Lane? { session.graph.lanes[label] }

    /// Runs `count` ticks (stopping early if the session finishes).
    public func tick(_ count: Int = 1) throws {
        for _ in 0..<count where !session.isFinished { try session.tick() }
    }

    /// Ticks until every node has finished; returns the number of ticks run. Throws if `maxTicks` is reached first.
    @discardableResult
    public func runUntilFinished(maxTicks: Int = 100_000) throws -> Int {
        var n = 0
        while !session.isFinished {
            guard n < maxTicks else { throw NodeError("session did not finish within \(maxTicks) ticks") }
            try session.tick()
            n += 1
        }
        return n
    }

    /// Stops every node (flushes sinks).
    public func stop() { session.stop() }
}
