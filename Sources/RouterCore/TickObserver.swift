/// Work a node does once per tick after every node of the session has processed, on the tick thread.
///
/// The reason it exists: a node that hands its output to a network event loop (a `RealtimeRing` push plus a wake-up)
/// should wake that loop once, after the whole tick, not in the middle of its `process`. On a loaded 2-core machine
/// the woken loop often preempts the tick thread at the wake-up; after the tick that costs the graph nothing (the tick
/// thread is about to sleep), in the middle of it the rest of the graph waits.
///
/// Register in the node's `init` with `NodeSetup.observeTickEnd(_:)`. `tickDidEnd` runs in registration order
/// (data-path order) after the last node's `process`, in every tick (also when the observing node has finished), and
/// not in a tick in which a node threw (the session is failing). Like `process`, it must not block, lock or allocate.
public protocol TickObserver: AnyObject {
    /// Called on the tick thread once `tick` has run every node.
    func tickDidEnd(_ tick: Tick)
}

/// The observers of one graph (or one harness), called by its tick loop; registration happens while the nodes are
/// built, before the first tick.
final class TickObservers {
    private var observers: [any TickObserver] = []

    func register(_ observer: any TickObserver) { observers.append(observer) }

    /// Tells every observer that `tick` is over (no allocation: the array is only read).
    @inline(__always)
    func tickDidEnd(_ tick: Tick) {
        for observer in observers { observer.tickDidEnd(tick) }
    }
}
