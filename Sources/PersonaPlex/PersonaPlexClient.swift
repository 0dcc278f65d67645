import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// One PersonaPlex session over WebSocket (single use: create a new client per session).
///
/// Threading: all network work runs on one NIO event loop. `send(audio:)`, `drainReceived`, and
/// `drainSendTimings(into:)` may be called from any thread and are meant for one (e.g. a 20 ms audio thread):
/// pages and timings cross between it and the event loop through lock-free single-producer single-consumer rings
/// with preallocated storage (concurrent callers are serialised by a spin guard), and they never wait for the
/// network. `counters` and `state` take a small lock (read them rarely).
/// Callbacks (`onStateChange`, `onMessage`) run on the event loop and must be quick.
/// A started session keeps itself alive until it ends: always `close()` it (a dropped socket that is never
/// closed holds the server's single-session lock).
public final class PersonaPlexClient: @unchecked Sendable {
    /// The configuration this session uses.
    public let configuration: PersonaPlexConfiguration
    /// The event loop that owns the connection and runs the callbacks.
    public let eventLoop: EventLoop

    let logger: PersonaPlexLogger?
    let onStateChange: (@Sendable (PersonaPlexState) -> Void)?
    let onMessage: (@Sendable (PersonaPlexMessage) -> Void)?
    let inbox: PersonaPlexInbox
    let timings: PersonaPlexTimingRing
    /// Pages from `send(audio:)` (caller thread) to the event loop, with their origin times.
    let outbox: PersonaPlexPacketRing
    /// True while a flush of `outbox` is queued on the event loop: one hop per batch of sends, not per page.
    let flushScheduled = Atomic<Bool>(false)
    /// True between `0x00` and the start of closing: `send(audio:)` accepts pages.
    let acceptingSends = Atomic<Bool>(false)
    /// Bytes accepted by `send(audio:)` and not yet written to the socket.
    let pendingSendBytes = Atomic<Int>(0)
    /// The flush task, built once so a hop to the event loop allocates nothing (weak: no retain cycle).
    private var flushTask: (@Sendable () -> Void)!
    let shared = PersonaPlexLockedValue(SharedState())
    let endPromise: EventLoopPromise<Void>

    /// State read by the caller's threads: guarded by `shared`'s lock.
    struct SharedState {
        var state: PersonaPlexState = .idle
        var liveChannel: Channel?
        var started = false
    }

    enum Phase { case idle, connecting, upgraded, live, closing, ended }

    // Event-loop confined.
    var phase = Phase.idle
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
    var maskRandom = SystemRandomNumberGenerator()

    /// - Parameters:
    ///   - eventLoopGroup: where to run; the connection uses one loop of it. Defaults to NIO's shared group.
    ///   - logger: receives state changes and errors; the library never prints on its own.
    ///   - onStateChange: called on the event loop at every state change.
    ///   - onMessage: if given, every received message is passed here on the event loop instead of the inbox.
    public init(
        configuration: PersonaPlexConfiguration,
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: PersonaPlexLogger? = nil,
        onStateChange: (@Sendable (PersonaPlexState) -> Void)? = nil,
        onMessage: (@Sendable (PersonaPlexMessage) -> Void)? = nil
    ) {
        self.configuration = configuration
        eventLoop = eventLoopGroup.next()
        self.logger = logger
        self.onStateChange = onStateChange
        self.onMessage = onMessage
        inbox = PersonaPlexInbox(capacity: configuration.inboxCapacity)
        timings = PersonaPlexTimingRing(capacity: configuration.sendTimingCapacity)
        outbox = PersonaPlexPacketRing(capacity: 256, slotBytes: 1024)
        unacknowledged.reserveCapacity(256)
        endPromise = eventLoop.makePromise(of: Void.self)
        flushTask = { [weak self] in self?.flushOutbox() }
    }

    deinit {
        // Only reachable when `connect()` never ran: a started session is kept alive by its event-loop work.
        if !endCompleted { endPromise.succeed(()) }
    }

    // MARK: Caller API

    /// The current state.
    public var state: PersonaPlexState { shared.current.state }

    /// Validates the prompt and voice (throwing before any network activity), connects, and returns once
    /// the server sent `0x00`. Throws a `PersonaPlexError`.
    public func connect() async throws {
        try await startConnecting().get()
    }

    /// Future-based `connect()`: fails with the validation error before any network activity, or completes
    /// when live. Cheap on the caller's thread: validation (voice directory listing) and TLS setup (CA file)
    /// run on the event loop.
    public func startConnecting() -> EventLoopFuture<Void> {
        let alreadyStarted = shared.withLock { state -> Bool in
            defer { state.started = true }
            return state.started
        }
        if alreadyStarted { return eventLoop.makeFailedFuture(PersonaPlexError.alreadyStarted) }
        let promise = eventLoop.makePromise(of: Void.self)
        eventLoop.execute { self.prepareAndConnect(promise: promise) }
        return promise.futureResult
    }

    private func prepareAndConnect(promise: EventLoopPromise<Void>) {
        let requestTarget: String
        let tlsContext: NIOSSLContext?
        do {
            requestTarget = try configuration.validatedRequestTarget()
            tlsContext = configuration.endpoint.secure ? try PersonaPlexTLS.makeContext(configuration.tls) : nil
        } catch {
            let failure = error as? PersonaPlexError ?? .connectionFailed(
                host: configuration.endpoint.host, port: configuration.endpoint.port, reason: "\(error)")
            finish(.failed(failure))
            promise.fail(failure)
            return
        }
        if configuration.endpoint.secure, let warning = configuration.tls.insecureWarning,
           PersonaPlexSessionRegistry.claimInsecureWarning() {
            logger?(.warning, warning)
        }
        beginConnecting(requestTarget: requestTarget, tlsContext: tlsContext, promise: promise)
    }

    /// Sends one `0x01` message carrying `audio` (Ogg page bytes). Never blocks. `originNanos` (`PersonaPlexClock`
    /// time, e.g. when the PCM entered the encoder) is where the page's send timing starts; default: now.
    ///
    /// Cost per call: a copy into a preallocated ring slot and a few atomics; the first page since the last flush
    /// queues one task on the event loop, which frames and writes every queued page in one buffer (reused) without
    /// a write promise. Refused (`.notLive`) before `0x00`.
    @discardableResult
    public func send(audio: UnsafeRawBufferPointer, originNanos: UInt64 = 0) -> PersonaPlexSendResult {
        let requestedAt = originNanos > 0 ? originNanos : PersonaPlexClock.nowNanos()
        let count = audio.count
        guard acceptingSends.load(ordering: .acquiring) else {
            inbox.update { $0.sendsWhileNotLive += 1 }
            return .notLive
        }
        let pending = pendingSendBytes.add(count, ordering: .relaxed).oldValue
        guard pending + count <= configuration.maxPendingSendBytes || pending == 0,
              outbox.push(audio, stamp: requestedAt) else {
            pendingSendBytes.subtract(count, ordering: .relaxed)
            inbox.update { $0.sendsDroppedBacklog += 1 }
            return .droppedBacklog
        }
        if !flushScheduled.exchange(true, ordering: .sequentiallyConsistent) {
            if eventLoop.inEventLoop { flushOutbox() } else { eventLoop.execute(flushTask) }
        }
        return .queued
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

    /// A snapshot of the session counters.
    public var counters: PersonaPlexCounters { inbox.snapshot }

    /// Ends the session: sends a close frame, waits up to `closeGracePeriod` for the server's, then closes
    /// the socket. Safe to call in any state and more than once.
    public func close() async {
        let done = eventLoop.makePromise(of: Void.self)
        eventLoop.execute { self.beginClosing(done: done) }
        try? await done.futureResult.get()
    }

    /// Completes when the session ended (closed or failed); see `state` for which.
    public var ended: EventLoopFuture<Void> { endPromise.futureResult }

    /// Waits until the session ended and returns its final state.
    public func waitUntilEnded() async -> PersonaPlexState {
        try? await endPromise.futureResult.get()
        return state
    }
}
