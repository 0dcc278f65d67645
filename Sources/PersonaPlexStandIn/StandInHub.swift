import NIOCore

/// The stand-in's single-session lock and its FIFO of waiting clients, confined to the server's one event loop.
final class StandInHub: @unchecked Sendable {
    // @unchecked: all mutable state is touched only on `eventLoop` (every method asserts it).

    let eventLoop: any EventLoop
    let options: PersonaPlexStandIn.Options
    private(set) var totals = StandInStatistics()
    private var holder: StandInSessionHandler?
    private var waiting: [StandInSessionHandler] = []
    private var open: [ObjectIdentifier: StandInSessionHandler] = [:]

    init(eventLoop: any EventLoop, options: PersonaPlexStandIn.Options) {
        self.eventLoop = eventLoop
        self.options = options
    }

    func count(_ update: (inout StandInStatistics) -> Void) {
        eventLoop.preconditionInEventLoop()
        update(&totals)
    }

    /// A client with valid parameters asks for the lock: it gets it now or waits its turn, silently.
    func enqueue(_ session: StandInSessionHandler) {
        eventLoop.preconditionInEventLoop()
        open[ObjectIdentifier(session)] = session
        if holder == nil {
            holder = session
            session.lockAcquired()
        } else {
            waiting.append(session)
        }
    }

    /// A client went away (it held the lock or was waiting for it).
    func release(_ session: StandInSessionHandler) {
        eventLoop.preconditionInEventLoop()
        open[ObjectIdentifier(session)] = nil
        waiting.removeAll { $0 === session }
        guard holder === session else { return }
        holder = nil
        if !waiting.isEmpty {
            let next = waiting.removeFirst()
            holder = next
            next.lockAcquired()
        }
    }

    func closeAll() {
        eventLoop.preconditionInEventLoop()
        for session in open.values { session.closeNow() }
    }
}
