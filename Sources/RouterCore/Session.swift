import Foundation
import Realtime
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Why a session could not run or ended badly.
public enum SessionError: Error, CustomStringConvertible, Equatable, Sendable {
    case nodeFailed(node: String, type: String, reason: String)

    public var description: String {
        switch self {
        case .nodeFailed(let node, let type, let reason): return "node '\(node)' (\(type)) failed: \(reason)"
        }
    }
}

/// How a session ended.
public enum SessionOutcome: Equatable, CustomStringConvertible, Sendable {
    /// Every source ended and everything downstream drained.
    case completed
    /// Stopped on request (SIGINT/SIGTERM, or `requestStop`).
    case stopped
    /// A node failed; the session was shut down cleanly.
    case failed(SessionError)

    public var description: String {
        switch self {
        case .completed: return "completed"
        case .stopped: return "stopped"
        case .failed(let e): return "failed: \(e)"
        }
    }
}

/// One running instance of a graph, driven by one 20 ms clock. `tick()` advances it one step (tests drive it
/// directly with virtual time); `run()` paces ticks by absolute deadlines (`next += 20 ms`, never re-based on "now")
/// on a dedicated thread, or back to back when the pipeline runs fast.
public final class Session: @unchecked Sendable {
    // @unchecked: the graph is confined to the one thread that runs the ticks (handed to it once, by `runOnThread`);
    // the only cross-thread entry, `requestStop`, is an atomic.
    public let graph: Graph
    /// The clock behind tick stamps and node timings: the graph's (the system clock unless a test injected one).
    /// Real-time pacing always sleeps on `CLOCK_MONOTONIC`.
    public var clock: any MonotonicClock { graph.clock }
    private let eventLanes: [EventLane]
    private let stopRequested = Atomic<Bool>(false)
    public private(set) var tickIndex: Int64 = 0
    /// Ticks whose processing finished after their deadline (real-time runs only).
    public private(set) var lateTicks = 0
    /// How long each tick took, every node included (the budget is 20 ms; the tick thread's headroom).
    public private(set) var tickDurations = LatencyHistogram()
    private var started = false
    private var announcedStop = false
    private var stoppedNodes = false
    private let log = Logger("session")

    public init(graph: Graph) {
        self.graph = graph
        eventLanes = [graph.sessionEvents] + graph.nodes.flatMap(\.eventOutputs)
    }

    /// Per-node metrics in data-path order.
    public var metrics: [NodeMetrics] { graph.metrics }

    /// True once every node with media ports has finished (sources ended and everything downstream drained).
    /// Nodes that only handle events follow the session; they do not hold it open.
    public var isFinished: Bool {
        graph.nodes.allSatisfy { $0.finished || ($0.mediaInputs.isEmpty && $0.mediaOutputs.isEmpty) }
    }

    /// Asks a running session to stop: the next tick delivers `sessionStopping` to every event input and is the last.
    /// Safe from any thread and from signal handlers' queues.
    public func requestStop() { stopRequested.store(true, ordering: .relaxed) }

    /// Starts every node (in data-path order). A failure stops the nodes already started.
    public func start() throws {
        guard !started else { return }
        started = true
        for (i, n) in graph.nodes.enumerated() {
            do {
                try n.node.start()
            } catch {
                for earlier in graph.nodes[..<i] { earlier.node.stop() }
                stoppedNodes = true
                throw SessionError.nodeFailed(node: n.name, type: n.typeName, reason: "\(error)")
            }
        }
    }

    /// Runs one 20 ms step: emits the session's own events (`sessionStarted` in the first tick, `sessionStopping` in
    /// the first tick after a stop request, both seen in that same tick), rotates event lanes, lets every node
    /// process in data-path order, then calls the nodes' `TickObserver`s.
    public func tick() throws {
        if tickIndex == 0 { graph.sessionEvents.emit(.sessionStarted) }
        if !announcedStop && stopRequested.load(ordering: .relaxed) {
            announcedStop = true
            graph.sessionEvents.emit(.sessionStopping)
        }
        for lane in eventLanes { lane.rotate() }
        let clock = graph.clock
        let tick = Tick(index: tickIndex, startNanos: clock.nowNanoseconds())
        for n in graph.nodes {
            // Finished nodes keep clearing their lanes, so nothing downstream reads a stale frame.
            for lane in n.outputs { lane.beginTick() }
            if n.finished { continue }
            let t0 = clock.nowNanoseconds()
            do {
                try n.node.process(tick)
            } catch {
                throw SessionError.nodeFailed(node: n.name, type: n.typeName, reason: "\(error)")
            }
            n.metrics.processing.record(Nanoseconds.elapsed(from: t0, to: clock.nowNanoseconds()))
            var inCount = 0, outCount = 0
            for lane in n.mediaInputs { inCount += lane.itemCount }
            for lane in n.outputs { outCount += lane.itemCount }
            n.metrics.itemsIn += inCount
            n.metrics.itemsOut += outCount
            updateFinished(n)
        }
        // After the whole graph: nodes hand their tick's output to network event loops here, with one wake-up each.
        graph.tickObservers.tickDidEnd(tick)
        tickDurations.record(Nanoseconds.elapsed(from: tick.startNanos, to: clock.nowNanoseconds()))
        tickIndex += 1
    }

    /// End of stream propagates: a node whose media inputs have all ended and which has drained ends its outputs.
    @inline(__always)
    private func updateFinished(_ n: GraphNode) {
        if n.mediaInputs.isEmpty {
            // A source: finished once it has ended all its media outputs (a node with none never ends by itself).
            if !n.mediaOutputs.isEmpty && Self.allEnded(n.mediaOutputs) { n.finished = true }
            return
        }
        guard Self.allEnded(n.mediaInputs), n.node.isDrained else { return }
        for lane in n.mediaOutputs where !lane.ended { lane.finish() }
        n.finished = true
    }

    @inline(__always)
    private static func allEnded(_ lanes: [Lane]) -> Bool {
        for lane in lanes where !lane.ended { return false }
        return true
    }

    /// Stops every node once (flushing files, closing sockets). Called by `run`; tests call it after ticking.
    public func stop() {
        guard !stoppedNodes else { return }
        stoppedNodes = true
        for n in graph.nodes { n.node.stop() }
    }

    /// Starts, ticks until finished, stopped or failed, then stops every node. Blocks the calling thread; use
    /// `runOnThread` from async code. `maxTicks` bounds the run (nil: unbounded). Log lines from this thread are
    /// queued while it runs (it never waits for the log) and all written before it returns.
    public func run(realtime: Bool, maxTicks: Int64? = nil, metricsInterval: Double? = nil) -> SessionOutcome {
        RouterLog.shared.queueingLines {
            runTicks(realtime: realtime, maxTicks: maxTicks, metricsInterval: metricsInterval)
        }
    }

    private func runTicks(realtime: Bool, maxTicks: Int64?, metricsInterval: Double?) -> SessionOutcome {
        do { try start() } catch let e as SessionError { return .failed(e) } catch {
            return .failed(.nodeFailed(node: "?", type: "?", reason: "\(error)"))
        }
        defer { stop() }
        var deadline = SystemClock.now()
        let metricsEvery = metricsInterval.map { Tick.count(seconds: $0) }
        while true {
            // A stop request gets one more tick, which tells the nodes (sessionStopping).
            let stopping = stopRequested.load(ordering: .relaxed)
            do { try tick() } catch let e as SessionError {
                return .failed(e)  // the caller reports it (once)
            } catch {
                return .failed(.nodeFailed(node: "?", type: "?", reason: "\(error)"))
            }
            if stopping { return .stopped }
            if isFinished { return .completed }
            if let maxTicks, tickIndex >= maxTicks { return .stopped }
            if let every = metricsEvery, every > 0, tickIndex % every == 0 {
                log.info("metrics at \(tickIndex / Int64(Tick.perSecond)) s:\n" + MetricsReport.render(metrics))
            }
            if realtime {
                deadline = Nanoseconds.adding(deadline, Tick.nanoseconds)
                if SystemClock.now() > deadline { lateTicks += 1 }
                sleepUntil(deadline)
            }
        }
    }

    /// Runs the session on a dedicated thread (audio must not share Swift's cooperative pool) and returns its outcome.
    public func runOnThread(realtime: Bool, maxTicks: Int64? = nil, metricsInterval: Double? = nil) async
        -> SessionOutcome
    {
        await withCheckedContinuation { continuation in
            let thread = Thread { [self] in
                continuation.resume(
                    returning: run(realtime: realtime, maxTicks: maxTicks, metricsInterval: metricsInterval))
            }
            thread.name = "router-session"
            thread.qualityOfService = .userInteractive
            thread.start()
        }
    }
}

/// Sleeps until an absolute `SystemClock` (CLOCK_MONOTONIC) deadline (restarting on signals), so pacing never drifts.
public func sleepUntil(_ deadlineNanoseconds: UInt64) {
    #if canImport(Glibc)
        let deadline = min(deadlineNanoseconds, UInt64(Int.max))
        var ts = timespec(tv_sec: Int(deadline / Nanoseconds.perSecond), tv_nsec: Int(deadline % Nanoseconds.perSecond))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    #else
        let now = SystemClock.now()
        if deadlineNanoseconds > now { usleep(UInt32((deadlineNanoseconds - now) / 1000)) }
    #endif
}
