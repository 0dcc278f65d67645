import Realtime

/// Drives a single node deterministically with the semantics of a real graph, in the spirit of swift-nio's
/// `EmbeddedChannel`: the test writes this tick's inputs, calls `tick()`, and reads the outputs. No threads, no wall
/// clock: the node's clock is a `ManualClock` the test advances.
///
/// What a `Session` does, the harness does too: it calls `start()` before the first tick and `stop()` once; the first
/// tick delivers `session started` (and the tick after `requestStop()` delivers `session stopping`) to every event
/// input, ahead of the test's own events; once every media input has ended and the node says it is drained, its
/// media outputs end and `process` is no longer called; a `TickObserver` the node registered is called at the end of
/// every tick. `finish()` ends the test's use of the node and fails when the node still holds output the test never
/// read.
public final class NodeHarness<N: NodeType> {
    public let node: N
    public let metrics: NodeMetrics
    /// The node's clock (`NodeSetup.clock`); advance it to test timeouts and latency stamps without sleeping.
    public let clock: ManualClock
    /// The session's own events (`sessionStarted`, `sessionStopping`), linked into every event input.
    private let sessionEvents = EventLane(label: "session.events")
    /// The node's `TickObserver` registration, called after its `process` as a session calls it after the last node.
    private let tickObservers = TickObservers()
    private let inputLanes: [String: Lane]
    private let outputLanes: [String: Lane]
    private let mediaInputs: [Lane]
    private let mediaOutputs: [Lane]
    public private(set) var tickIndex: Int64 = 0
    /// True once the node has finished: its media inputs ended and it drained (a source: it ended its outputs).
    public private(set) var isFinished = false
    private var started = false
    private var stopped = false
    private var stopRequested = false
    private var announcedStop = false

    /// Builds the node with `params` (YAML-style text values, parsed by the node's schema) and one harness-owned lane
    /// per input in `inputs` (port name → format). Formats are explicit: a pass-through output (`sameAs:`) whose
    /// input format is not given is an error, as an unlinked input is in a pipeline.
    public init(
        params: [String: String] = [:], inputs: [String: MediaFormat] = [:], runsFast: Bool = true,
        clock: ManualClock = ManualClock(), resources: SessionResources = SessionResources()
    ) throws {
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
        let layout = N.ports(parameters)
        var ins: [String: Lane] = [:]
        for (port, format) in inputs {
            guard let spec = layout.inputs.first(where: { $0.name == port }) else {
                throw NodeError("\(N.typeName) has no input '\(port)'")
            }
            guard spec.kind == format.kind else {
                throw NodeError("\(N.typeName).\(port) takes \(spec.kind.displayName), not \(format)")
            }
            if format.kind.carriesPCM && format.pcm == nil {
                throw NodeError("give the PCM format of \(N.typeName).\(port) (e.g. .pcm(PCMFormat(...)))")
            }
            ins[port] = makeLane(format, label: "harness.\(port)")
        }
        var outs: [String: Lane] = [:]
        for output in layout.outputs {
            let format: MediaFormat
            switch output.rule {
            case .fixed(let f): format = f
            case .sameAsInput(let input):
                if let given = inputs[input] {
                    format = MediaFormat(output.kind, pcm: given.pcm)
                } else if output.kind.carriesPCM {
                    throw NodeError(
                        "the format of \(N.typeName).\(output.name) follows input '\(input)': "
                            + "give that input's format in `inputs:`")
                } else {
                    format = MediaFormat(output.kind)
                }
            }
            outs[output.name] = makeLane(format, label: "\(N.typeName).\(output.name)")
        }
        // Like Graph: every event input also carries the session's events, ahead of the linked ones.
        var linked: [String: [Lane]] = ins.mapValues { [$0] }
        for input in layout.inputs where input.kind == .event {
            linked[input.name] = [sessionEvents] + (ins[input.name].map { [$0] } ?? [])
        }
        let setup = NodeSetup(
            name: N.typeName.lowercased(), typeName: N.typeName, params: parameters, runsFast: runsFast,
            clock: clock, resources: resources, inputs: linked, outputs: outs, tickObservers: tickObservers)
        node = try N(setup)
        metrics = setup.metrics
        self.clock = clock
        inputLanes = ins
        outputLanes = outs
        mediaInputs = ins.values.filter { $0.format.kind != .event }
        mediaOutputs = layout.outputs.compactMap { outs[$0.name] }.filter { $0.format.kind != .event }
    }

    /// The harness-owned lane feeding input `port`; write it before `tick()`.
    public func pcmInput(_ port: String = "in") -> PCMLane { input(port) }
    public func packetInput(_ port: String = "in") -> PacketLane { input(port) }
    public func streamsInput(_ port: String) -> PCMStreamsLane { input(port) }
    /// Events emitted here reach the node on the next `tick()` (after the session's own events).
    public func eventInput(_ port: String) -> EventLane { input(port) }

    public func pcmOutput(_ port: String = "out") -> PCMLane { output(port) }
    public func packetOutput(_ port: String = "out") -> PacketLane { output(port) }
    public func streamsOutput(_ port: String = "out") -> PCMStreamsLane { output(port) }
    public func eventOutput(_ port: String) -> EventLane { output(port) }

    private func input<L: Lane>(_ port: String) -> L {
        guard let lane = inputLanes[port] as? L else {
            preconditionFailure("no \(L.self) input '\(port)': declare it in NodeHarness(inputs:)")
        }
        return lane
    }

    private func output<L: Lane>(_ port: String) -> L {
        guard let lane = outputLanes[port] as? L else {
            preconditionFailure("\(N.typeName) has no \(L.self) output '\(port)'")
        }
        return lane
    }

    /// Marks an input as ended (end of stream).
    public func endInput(_ port: String = "in") { inputLanes[port]?.finish() }

    /// Starts the node, as a session does before its first tick. `tick()` calls it if the test did not.
    public func start() throws {
        guard !started else { return }
        started = true
        try node.start()
    }

    /// Asks for a stop, as SIGINT does: the next tick delivers `session stopping` to the node's event inputs.
    public func requestStop() { stopRequested = true }

    /// Runs one 20 ms step, then clears the inputs for the next one. A finished node is not called any more; its
    /// outputs stay empty.
    public func tick() throws {
        try start()
        if tickIndex == 0 { sessionEvents.emit(.sessionStarted) }
        if stopRequested && !announcedStop {
            announcedStop = true
            sessionEvents.emit(.sessionStopping)
        }
        sessionEvents.rotate()
        for lane in inputLanes.values { (lane as? EventLane)?.rotate() }
        for lane in outputLanes.values { lane.beginTick() }
        let current = Tick(index: tickIndex, startNanos: clock.nowNanoseconds())
        if !isFinished {
            let t0 = current.startNanos
            try node.process(current)
            metrics.processing.record(Nanoseconds.elapsed(from: t0, to: clock.nowNanoseconds()))
            for lane in mediaInputs { metrics.itemsIn += lane.itemCount }
            for lane in outputLanes.values { metrics.itemsOut += lane.itemCount }
            updateFinished()
        }
        tickObservers.tickDidEnd(current)
        // Events emitted this tick become readable now (a linked consumer would see them in the next tick).
        for lane in outputLanes.values { (lane as? EventLane)?.rotate() }
        for lane in inputLanes.values where !(lane is EventLane) { lane.beginTick() }
        tickIndex += 1
    }

    /// Runs `count` ticks.
    public func tick(_ count: Int) throws {
        for _ in 0..<count { try tick() }
    }

    /// End of stream as `Session` propagates it: a node whose media inputs all ended and which has drained ends its
    /// media outputs; a source is finished once it ended all of its own.
    private func updateFinished() {
        if mediaInputs.isEmpty {
            if !mediaOutputs.isEmpty && mediaOutputs.allSatisfy(\.ended) { isFinished = true }
            return
        }
        guard mediaInputs.allSatisfy(\.ended), node.isDrained else { return }
        for lane in mediaOutputs where !lane.ended { lane.finish() }
        isFinished = true
    }

    /// Ends every input the test has not ended, runs one more tick so the node sees the end, and stops the node.
    /// Throws when the node is not done: it still says it holds output (`isDrained` false), or that last tick produced
    /// media the test never read. A test reads a node's whole output (ticking until it drains) before finishing.
    public func finish() throws {
        if mediaInputs.isEmpty {
            // A source has no inputs to end: it must have ended its outputs by itself.
            stop()
            guard isFinished || mediaOutputs.isEmpty else {
                throw NodeError("\(N.typeName) has not ended its outputs; tick until it does before finish()")
            }
            return
        }
        for lane in mediaInputs where !lane.ended { lane.finish() }
        try tick()
        var leftovers: [String] = []
        for lane in mediaOutputs where lane.itemCount > 0 {
            leftovers.append("\(lane.itemCount) item(s) on \(lane.label)")
        }
        if !node.isDrained { leftovers.append("isDrained is false") }
        stop()
        if !leftovers.isEmpty {
            throw NodeError(
                "\(N.typeName) kept undrained output after its inputs ended: "
                    + leftovers.joined(separator: ", ") + "; tick until it drains and read it before finish()")
        }
    }

    /// Stops the node once (flushes files, closes sockets), as a session does at its end.
    public func stop() {
        guard started, !stopped else { return }
        stopped = true
        node.stop()
    }
}

/// A whole pipeline driven tick by tick with virtual time, for tests of graphs.
public final class EmbeddedSession {
    public let session: Session
    public let pipeline: ValidatedPipeline
    /// The graph's clock: a `ManualClock` unless one is given (a benchmark passes `SystemClock.shared`, so the
    /// engine's clock reads cost what they cost in production).
    public let clock: any MonotonicClock

    public init(
        yaml: String, registry: NodeRegistry, environment: PipelineEnvironment = PipelineEnvironment([:]),
        file: String = "test.yaml", clock: any MonotonicClock = ManualClock(),
        resources: SessionResources = SessionResources()
    ) throws {
        pipeline = try PipelineValidator(registry: registry).validate(yaml: yaml, file: file, environment: environment)
        self.clock = clock
        session = Session(graph: try Graph(pipeline, clock: clock, resources: resources))
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
