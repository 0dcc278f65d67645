import NIOCore
import NIOPosix
import NIOSSL
import NIOWebSocket
import Realtime
import Synchronization

/// One PersonaPlex session over WebSocket (single use: create a new client per session).
///
/// Threads. All network work and every state change run on one NIO event loop (`eventLoop`), which owns the
/// session's one state machine (`PersonaPlexState`, changed only by `transition(to:)`). The caller's realtime
/// thread (the router's 20 ms tick thread) meets it only through `Realtime.RealtimeRing`s of preallocated slots:
///
/// | ring            | producer          | consumer          | carries                           |
/// |-----------------|-------------------|-------------------|-----------------------------------|
/// | `outbox`        | tick thread       | event loop        | Ogg pages to send, with origin    |
/// | `inbox`         | event loop        | tick thread       | received pages and text pieces    |
/// | `timings`       | event loop        | tick thread       | send timings (origin → socket)    |
/// | `stateChanges`  | event loop        | tick thread       | every state change, in order      |
///
/// `send(audio:)`, `enqueue(audio:)`, `drainReceived`, `drainSendTimings` and `drainStateChanges` never block, lock
/// or (for payloads within the slot size) allocate; each side of each ring must be used by one thread at a time.
/// Waking the loop for queued pages (`send(audio:)`, `wakeIfQueued()`) is the one system call on the sender's side.
/// `state` and `counters` may be read from any thread. Callbacks (`onStateChange`, `onMessage`) run on the event
/// loop and must be quick. A started session keeps itself alive until it ends: always `close()` it (a dropped
/// socket that is never closed holds the server's single-session lock).
public final class PersonaPlexClient: @unchecked Sendable {
    // @unchecked: the `var`s below are confined to `eventLoop` (every method touching them asserts it); the rest is
    // immutable, atomic, a Mutex, or a RealtimeRing used by one thread per side.

    /// The configuration this session uses.
    public let configuration: PersonaPlexConfiguration
    /// The event loop that owns the connection, the state machine and the callbacks.
    public let eventLoop: EventLoop
    /// Where every timestamp of this session comes from (`SystemClock.shared` unless a test injects one).
    public let clock: MonotonicClock

    let logger: PersonaPlexLogger?
    let onStateChange: (@Sendable (PersonaPlexState) -> Void)?
    let onMessage: (@Sendable (PersonaPlexMessage) -> Void)?
    let counterCells = PersonaPlexCounterCells()
    /// Received messages: event loop → tick thread.
    let inbox: PersonaPlexInbox
    /// Send timings: event loop → tick thread.
    let timings: PersonaPlexTimingRing
    /// Pages from `send(audio:)` with their origin stamps: tick thread → event loop.
    let outbox: RealtimeRing<ByteSlot>
    /// Every state change, in order: event loop → tick thread.
    let stateChanges = RealtimeRing<PersonaPlexState?>(capacity: 32)
    /// Opens the connection (a real socket; tests inject an `EmbeddedChannel`).
    let connector: PersonaPlexConnector
    /// The `Sec-WebSocket-Key` of the upgrade request (random; fixed by tests that play the server).
    let webSocketKey: String

    /// The send gate, derived from the state machine in `transition(to:)`: open exactly while `live`. The one
    /// flag the tick thread reads synchronously, so `send(audio:)` can refuse before `0x00` without waiting.
    let acceptingSends = Atomic<Bool>(false)
    /// Bytes accepted by `send(audio:)` and not yet written to the socket (back-pressure across both threads).
    let pendingSendBytes = Atomic<Int>(0)
    /// True while a drain of `outbox` is queued on the event loop: one hop per batch of sends, not per page.
    let flushScheduled = Atomic<Bool>(false)
    /// True while the event loop has a drain armed for the sender's next batch (`sendPeriod`): no wake-up needed.
    let drainArmed = Atomic<Bool>(false)
    /// True when `enqueue(audio:)` pushed a page since the last `wakeIfQueued()` (touched by the sender only).
    let queuedSinceWake = Atomic<Bool>(false)
    /// `startConnecting()` was called (a client is single use).
    private let started = Atomic<Bool>(false)
    /// The state as last published by the event loop, for readers on other threads (`state`).
    private let published = Mutex<PersonaPlexState>(.idle)
    /// The drain task, built once so a hop to the event loop allocates nothing (weak: no retain cycle).
    private var flushTask: (@Sendable () -> Void)!
    let endPromise: EventLoopPromise<Void>

    // Event-loop confined.
    /// The one state machine of the session; change it only through `transition(to:)`.
    var current = PersonaPlexState.idle
    var channel: Channel?
    var connectPromise: EventLoopPromise<Void>?
    var handshakeTimer: Scheduled<Void>?
    var waitingTimer: Scheduled<Void>?
    var lockWatch: RepeatedTask?
    var closeTimer: Scheduled<Void>?
    var silenceWatch: RepeatedTask?
    var lastReceivedAt: UInt64 = 0
    var lastWrittenAt: UInt64 = 0
    var serverCloseCode: Int?
    var tlsDone = false
    var upgradeError: String?
    var registered = false
    var endCompleted = false
    /// The WebSocket encoder's context: batches of pre-framed pages are written below it, bypassing it.
    var rawContext: ChannelHandlerContext?
    /// The reused send buffer (framed, masked pages of one batch).
    var sendBuffer: ByteBuffer?
    /// The batch being framed (holds `sendBuffer` while `flushOutbox` fills it).
    var framing = PersonaPlexClient.emptyBuffer
    static let emptyBuffer = ByteBufferAllocator().buffer(capacity: 0)
    /// Pages written but not yet known to be on the socket, oldest first.
    var unacknowledged: [PersonaPlexUnacknowledged] = []
    /// Batches the socket did not take at once: (their buffer, page count), oldest first.
    var stalled: [(buffer: ByteBuffer, pages: Int)] = []
    var stallPoll: RepeatedTask?
    /// The drain armed for the sender's next batch, and the newest page stamp drained.
    var drainCallback: NIOScheduledCallback?
    var newestDrainedStamp: UInt64 = 0
    /// Where the sender's next batch is expected: one period after the earliest recent batch stamp.
    var drainAnchor: UInt64 = 0
    var maskRandom = SystemRandomNumberGenerator()

    /// - Parameters:
    ///   - eventLoopGroup: where to run; the connection uses one loop of it. Defaults to NIO's shared group.
    ///   - clock: the source of every timestamp (send origins, socket reads and writes).
    ///   - logger: receives state changes and errors; the library never prints on its own.
    ///   - onStateChange: called on the event loop at every state change.
    ///   - onMessage: if given, every received message is passed here on the event loop instead of the inbox.
    public convenience init(
        configuration: PersonaPlexConfiguration,
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        clock: MonotonicClock = SystemClock.shared,
        logger: PersonaPlexLogger? = nil,
        onStateChange: (@Sendable (PersonaPlexState) -> Void)? = nil,
        onMessage: (@Sendable (PersonaPlexMessage) -> Void)? = nil
    ) {
        self.init(
            configuration: configuration, eventLoopGroup: eventLoopGroup, clock: clock, logger: logger,
            onStateChange: onStateChange, onMessage: onMessage, connector: .socket,
            webSocketKey: NIOWebSocketClientUpgrader.randomRequestKey())
    }

    /// The full initialiser: `connector` and `webSocketKey` let a test play the server on an `EmbeddedChannel`.
    init(
        configuration: PersonaPlexConfiguration,
        eventLoopGroup: EventLoopGroup,
        clock: MonotonicClock,
        logger: PersonaPlexLogger?,
        onStateChange: (@Sendable (PersonaPlexState) -> Void)?,
        onMessage: (@Sendable (PersonaPlexMessage) -> Void)?,
        connector: PersonaPlexConnector,
        webSocketKey: String
    ) {
        self.configuration = configuration
        eventLoop = eventLoopGroup.next()
        self.clock = clock
        self.logger = logger
        self.onStateChange = onStateChange
        self.onMessage = onMessage
        self.connector = connector
        self.webSocketKey = webSocketKey
        inbox = PersonaPlexInbox(capacity: configuration.inboxCapacity, counters: counterCells)
        timings = PersonaPlexTimingRing(capacity: configuration.sendTimingCapacity)
        outbox = RealtimeRing(capacity: 256, slotBytes: 2048)
        unacknowledged.reserveCapacity(256)
        endPromise = eventLoop.makePromise(of: Void.self)
        flushTask = { [weak self] in self?.flushOutbox() }
    }

    deinit {
        // Only reachable when `connect()` never ran: a started session is kept alive by its event-loop work.
        if !endCompleted { endPromise.succeed(()) }
    }

    // MARK: Caller API (any thread)

    /// The current state (as last published by the event loop).
    public var state: PersonaPlexState { published.withLock { $0 } }

    /// Validates the prompt and voice (throwing before any network activity), connects, and returns once
    /// the server sent `0x00`. Throws a `PersonaPlexError`.
    public func connect() async throws {
        try await startConnecting().get()
    }

    /// Future-based `connect()`: fails with the validation error before any network activity, or completes
    /// when live. Cheap on the caller's thread: validation (voice directory listing) and TLS setup (CA file)
    /// run on the event loop.
    public func startConnecting() -> EventLoopFuture<Void> {
        if started.exchange(true, ordering: .acquiringAndReleasing) {
            return eventLoop.makeFailedFuture(PersonaPlexError.alreadyStarted)
        }
        let promise = eventLoop.makePromise(of: Void.self)
        eventLoop.execute { self.prepareAndConnect(promise: promise) }
        return promise.futureResult
    }

    private func prepareAndConnect(promise: EventLoopPromise<Void>) {
        eventLoop.assertInEventLoop()
        let requestTarget: String
        let tlsContext: NIOSSLContext?
        do {
            requestTarget = try configuration.validatedRequestTarget()
            tlsContext = configuration.endpoint.secure ? try PersonaPlexTLS.makeContext(configuration.tls) : nil
        } catch {
            let failure =
                error as? PersonaPlexError
                ?? .connectionFailed(
                    host: configuration.endpoint.host, port: configuration.endpoint.port, reason: "\(error)")
            finish(.failed(failure))
            promise.fail(failure)
            return
        }
        if configuration.endpoint.secure, let warning = configuration.tls.insecureWarning,
            PersonaPlexSessionRegistry.claimInsecureWarning()
        {
            logger?(.warning, warning)
        }
        beginConnecting(requestTarget: requestTarget, tlsContext: tlsContext, promise: promise)
    }

    // MARK: Tick-thread API (one thread at a time per direction)

    /// Sends one `0x01` message carrying `audio` (Ogg page bytes). Never blocks. `originNanos` (`clock` time, e.g.
    /// when the PCM entered the encoder) is where the page's send timing starts; default: now.
    ///
    /// Cost per call: a copy into a preallocated `outbox` slot and a few atomics. While the event loop has a drain
    /// armed for this batch (`sendPeriod`), that is all; otherwise the first page since the last drain queues one task
    /// on the event loop. The drain frames and writes every queued page in one buffer (reused) without a write
    /// promise. Refused (`.notLive`) before `0x00`. A sender with a natural end of batch (the router's tick) uses
    /// `enqueue(audio:originNanos:)` and `wakeIfQueued()` instead, to wake the loop once after the batch.
    @discardableResult
    public func send(audio: UnsafeRawBufferPointer, originNanos: UInt64 = 0) -> PersonaPlexSendResult {
        let result = enqueue(audio: audio, originNanos: originNanos)
        if result == .queued { wakeIfQueued() }
        return result
    }

    /// Queues one `0x01` message carrying `audio` like `send(audio:originNanos:)`, without waking the event loop:
    /// the page waits in the outbox until the sender calls `wakeIfQueued()` at the end of its batch (or a drain armed
    /// by `sendPeriod` takes it). No system call, no allocation for a page within the slot size.
    @discardableResult
    public func enqueue(audio: UnsafeRawBufferPointer, originNanos: UInt64 = 0) -> PersonaPlexSendResult {
        let requestedAt = originNanos > 0 ? originNanos : clock.nowNanoseconds()
        let count = audio.count
        guard acceptingSends.load(ordering: .acquiring) else {
            PersonaPlexCounterCells.bump(counterCells.sendsWhileNotLive)
            return .notLive
        }
        let pending = pendingSendBytes.wrappingAdd(count, ordering: .relaxed).oldValue
        guard pending + count <= configuration.maxPendingSendBytes || pending == 0,
            outbox.push(bytes: audio, tag: 0, stamp: requestedAt)
        else {
            pendingSendBytes.wrappingSubtract(count, ordering: .relaxed)
            PersonaPlexCounterCells.bump(counterCells.sendsDroppedBacklog)
            return .droppedBacklog
        }
        queuedSinceWake.store(true, ordering: .relaxed)
        return .queued
    }

    /// Hands the pages queued since the last call to the event loop: one wake-up (a task on the loop, through the
    /// drain closure built in `init`, so nothing is allocated) when any page was queued and no drain is already
    /// queued or armed; nothing at all otherwise. Call it from the sending thread. Returns whether it woke the loop
    /// (counted in `PersonaPlexCounters.wakeUps`).
    @discardableResult
    public func wakeIfQueued() -> Bool {
        guard queuedSinceWake.exchange(false, ordering: .relaxed) else { return false }
        // Pairs with the fence in `timedDrain()`: either this sees the flag lowered, or that drain sees the pages.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if drainArmed.load(ordering: .relaxed) { return false }
        // A drain already queued takes these pages too (it lowers the flag before it drains).
        guard !flushScheduled.exchange(true, ordering: .sequentiallyConsistent) else { return false }
        PersonaPlexCounterCells.bump(counterCells.wakeUps)
        if eventLoop.inEventLoop { flushOutbox() } else { eventLoop.execute(flushTask) }
        return true
    }

    /// `send(audio:)` for a byte array.
    @discardableResult
    public func send(audio: [UInt8]) -> PersonaPlexSendResult {
        audio.withUnsafeBytes { send(audio: $0) }
    }

    /// Moves every message received since the last call into `out` (emptied first; its capacity is reused).
    /// Allocates one array per message; `drainReceived(_:)` does not. Unused if `onMessage` was given.
    public func drainReceived(into out: inout [PersonaPlexMessage]) {
        inbox.drain(into: &out)
    }

    /// Visits every message received since the last call, in arrival order, without copying or locking: kind,
    /// payload (valid only during the call) and receive time. Returns how many. Unused if `onMessage` was given.
    @discardableResult
    public func drainReceived(
        _ body: (PersonaPlexMessage.Kind, UnsafeRawBufferPointer, UInt64) throws -> Void
    ) rethrows -> Int {
        try inbox.drain(body)
    }

    /// Appends the send timings recorded since the last call to `out` (oldest first).
    public func drainSendTimings(into out: inout [PersonaPlexSendTiming]) {
        timings.drain(into: &out)
    }

    /// Visits every state change since the last call, oldest first (the same sequence `onStateChange` sees).
    /// Returns how many.
    @discardableResult
    public func drainStateChanges(_ body: (PersonaPlexState) throws -> Void) rethrows -> Int {
        var visited = 0
        while let next = stateChanges.pop() {
            visited += 1
            try body(next)
        }
        return visited
    }

    /// A snapshot of the session counters (no lock: one relaxed atomic per counter).
    public var counters: PersonaPlexCounters { counterCells.snapshot }

    // MARK: Ending (any thread)

    /// Ends the session: sends a close frame, waits up to `closeGracePeriod` for the server's, then closes
    /// the socket. Safe to call in any state and more than once.
    public func close() async {
        try? await startClosing().get()
    }

    /// Future-based `close()`: completes when the session ended.
    public func startClosing() -> EventLoopFuture<Void> {
        let done = eventLoop.makePromise(of: Void.self)
        eventLoop.execute { self.beginClosing(done: done) }
        return done.futureResult
    }

    /// Completes when the session ended (closed or failed); see `state` for which.
    public var ended: EventLoopFuture<Void> { endPromise.futureResult }

    /// Waits until the session ended and returns its final state.
    public func waitUntilEnded() async -> PersonaPlexState {
        try? await endPromise.futureResult.get()
        return state
    }

    // MARK: The state machine (event loop)

    /// The one place the state changes: checks the move against the table, opens or shuts the send gate, publishes
    /// the new state (to `state` readers and, through `stateChanges`, to the tick thread), logs it and calls
    /// `onStateChange`. A move to the current state is ignored.
    func transition(to next: PersonaPlexState) {
        eventLoop.assertInEventLoop()
        guard current != next else { return }
        assert(current.canMove(to: next), "PersonaPlex: illegal transition \(current) -> \(next)")
        guard current.canMove(to: next) else {
            logger?(.error, "PersonaPlex \(configuration.endpoint.authority): ignored \(current) -> \(next)")
            return
        }
        current = next
        acceptingSends.store(next == .live, ordering: .sequentiallyConsistent)
        published.withLock { $0 = next }
        stateChanges.push(next)
        if case .failed = next {
            logger?(.error, "PersonaPlex \(configuration.endpoint.authority): \(next)")
        } else {
            logger?(.info, "PersonaPlex \(configuration.endpoint.authority): \(next)")
        }
        onStateChange?(next)
    }
}
