import DAVE
import Realtime

/// DAVE on one voice connection (dave.md §4–§5): drives `DAVESession` from ops 21–31, encrypts our Opus (never
/// the silence frame), decrypts each sender's frames with their user id, and heals itself: failed frames are
/// dropped and counted per user; those in the first `startupGrace` after a user's key arrived are "early", not
/// failures; a run of more than `failureTolerance` failures (while no transition is pending) answers op 31 for the
/// last transition and re-initialises with a new key package (discord.js `DAVESession`).
public final class VoiceE2EE {
    /// Per-user receive counters.
    public struct UserCounters: Equatable, Sendable {
        public var decrypted = 0
        public var failed = 0
        /// Failures within the start-up grace after the user's key arrived (not errors).
        public var early = 0
        /// Plain frames let through during a passthrough window.
        public var passthrough = 0
    }

    /// The Opus silence frame, never DAVE-encrypted (dave.md §5).
    public static let silenceFrame: [UInt8] = [0xF8, 0xFF, 0xFE]

    public let session: DAVESession
    private let clock: any Realtime.MonotonicClock
    /// Consecutive failures before op 31 + re-init (discord.js `DEFAULT_DECRYPTION_FAILURE_TOLERANCE`).
    public var failureTolerance = 36
    /// How long after a user's key arrives failures count as early (dave.md §4.11).
    public var startupGrace: UInt64 = 100 * Nanoseconds.perMillisecond
    /// Per-user receive counters, by user id.
    public var counters: [UInt64: UserCounters] { userCounters.mapValues(\.value) }
    /// Boxed so the per-frame increment changes a class field, not a dictionary entry (whose `_modify` accessor
    /// allocates its coroutine frame in unoptimised builds).
    private final class CounterBox {
        var value = UserCounters()
    }
    private var userCounters: [UInt64: CounterBox] = [:]
    /// Times op 31 was sent after a run of failures.
    public private(set) var selfHealings = 0
    private var consecutiveFailures = 0
    private var keyArrival: [UInt64: UInt64] = [:]
    private var lastTransitionID: UInt16 = 0
    private var transitionPending = false
    /// Largest frame handled: a UDP datagram cannot carry more, nor can the send ring's slots.
    static let maximumFrameBytes = 1 << 16
    /// Fixed-size buffers written in place (no per-frame allocation); the lengths say how much is valid.
    private var output: [UInt8]
    private var outputLength = 0
    private var encrypted: [UInt8]
    private var encryptedLength = 0

    public init(selfUserID: UInt64, channelID: UInt64, clock: any Realtime.MonotonicClock) {
        self.clock = clock
        session = DAVESession(selfUserID: selfUserID, channelID: channelID, clock: clock)
        output = [UInt8](repeating: 0, count: Self.maximumFrameBytes)
        encrypted = [UInt8](repeating: 0, count: Self.maximumFrameBytes + DAVEFrameFormat.maximumOverhead)
    }

    /// The call's effective protocol version (0 = plain Opus).
    public var protocolVersion: UInt16 { session.executedProtocolVersion }

    /// The 30-digit voice privacy code, once in a group.
    public var privacyCode: String? { session.privacyCode }

    /// Users the voice gateway announced (op 11).
    public func usersConnected(_ ids: [UInt64]) {
        session.addRecognizedUsers(ids)
    }

    /// A user left (op 13).
    public func userDisconnected(_ id: UInt64) {
        session.removeRecognizedUser(id)
        keyArrival[id] = nil
    }

    /// Session Description's `dave_protocol_version`: start DAVE or stay plain.
    public func start(protocolVersion: UInt16) throws -> [DAVEClientMessage] {
        try session.handleSelectProtocol(version: protocolVersion)
    }

    /// Applies one DAVE gateway event; returns what to send back.
    public func handle(_ event: VoiceGatewayEvent) throws -> [DAVEClientMessage] {
        let rosterBefore = Set(session.members.map(\.userID))
        var replies: [DAVEClientMessage]
        switch event {
        case .davePrepareTransition(let message):
            lastTransitionID = message.transitionID
            transitionPending = message.transitionID != 0
            replies = session.handlePrepareTransition(message)
        case .daveExecuteTransition(let message):
            session.handleExecuteTransition(message)
            transitionPending = false
            replies = []
        case .davePrepareEpoch(let message):
            lastTransitionID = message.transitionID
            replies = try session.handlePrepareEpoch(message)
        case .daveBinary(let opcode, let payload):
            switch Int(opcode) {
            case VoiceOpcode.mlsExternalSender: replies = try session.handleExternalSender(payload)
            case VoiceOpcode.mlsProposals: replies = try session.handleProposals(payload)
            case VoiceOpcode.mlsAnnounceCommitTransition:
                noteTransition(payload)
                replies = try session.handleAnnounceCommit(payload)
            case VoiceOpcode.mlsWelcome:
                noteTransition(payload)
                replies = try session.handleWelcome(payload)
            default: replies = []
            }
        default:
            replies = []
        }
        if replies.contains(where: { if case .invalidCommitWelcome = $0 { return true } else { return false } }) {
            transitionPending = false
        }
        let now = clock.nowNanoseconds()
        for member in session.members where !rosterBefore.contains(member.userID) {
            keyArrival[member.userID] = now
        }
        return replies
    }

    private func noteTransition(_ payload: [UInt8]) {
        guard payload.count >= 2 else { return }
        lastTransitionID = UInt16(payload[0]) << 8 | UInt16(payload[1])
        transitionPending = lastTransitionID != 0
    }

    /// DAVE-encrypts `opus` (silence and protocol 0 pass plain); read the result with `withEncrypted`.
    /// Allocates nothing.
    public func encrypt(opus: UnsafeRawBufferPointer) throws {
        encryptedLength = 0
        guard opus.count <= Self.maximumFrameBytes else { throw DAVEFrameError.frameTooLarge }
        if DAVEFrameFormat.isOpusSilence(opus) || session.executedProtocolVersion == 0 {
            encrypted.withUnsafeMutableBytes { $0.copyMemory(from: opus) }
            encryptedLength = opus.count
        } else {
            encryptedLength = try encrypted.withUnsafeMutableBytes { try session.encrypt(opus: opus, into: $0) }
        }
    }

    /// The last `encrypt` result.
    public func withEncrypted<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try encrypted.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<encryptedLength])) }
    }

    /// The Opus frame of the last `decrypt` that returned `.opus` (empty after a dropped frame).
    public func withDecrypted<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<outputLength])) }
    }

    /// The outcome of decrypting one received frame.
    public enum Decrypted: Equatable {
        /// The Opus frame is ready (`withDecrypted`).
        case opus
        /// Dropped; `replies` (op 31 + op 26 after a run of failures) must be sent.
        case dropped(replies: [DAVEClientMessage])
    }

    /// DAVE-decrypts `frame` from `userID`. Never returns undecryptable data as Opus.
    /// Allocates nothing while the frame decrypts.
    public func decrypt(userID: UInt64, frame: UnsafeRawBufferPointer) -> Decrypted {
        outputLength = 0
        do {
            guard frame.count <= Self.maximumFrameBytes else { throw DAVEFrameError.frameTooLarge }
            outputLength = try output.withUnsafeMutableBytes {
                try session.decrypt(userID: userID, frame: frame, into: $0)
            }
            consecutiveFailures = 0
            counter(userID).value.decrypted += 1
            return .opus
        } catch {
            return .dropped(replies: failed(userID: userID))
        }
    }

    private func counter(_ userID: UInt64) -> CounterBox {
        if let box = userCounters[userID] { return box }
        let box = CounterBox()
        userCounters[userID] = box
        return box
    }

    private func failed(userID: UInt64) -> [DAVEClientMessage] {
        let now = clock.nowNanoseconds()
        if let arrived = keyArrival[userID], now &- arrived < startupGrace {
            counter(userID).value.early += 1
            return []
        }
        counter(userID).value.failed += 1
        guard !transitionPending, session.executedProtocolVersion > 0 else { return [] }
        consecutiveFailures += 1
        guard consecutiveFailures > failureTolerance else { return [] }
        consecutiveFailures = 0
        selfHealings += 1
        let version = session.protocolVersion > 0 ? session.protocolVersion : session.executedProtocolVersion
        let reinit =
            (try? session.handlePrepareEpoch(
                DAVEPrepareEpoch(
                    protocolVersion: version, epoch: 1,
                    transitionID: lastTransitionID))) ?? []
        return [.invalidCommitWelcome(transitionID: lastTransitionID)] + reinit
    }
}
