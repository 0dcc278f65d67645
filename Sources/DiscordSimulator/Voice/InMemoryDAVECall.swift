import DAVE
import DiscordVoice
import Realtime

/// A DAVE call without sockets: members (`InMemoryDAVEMember`, ours or another implementation) and the simulated
/// voice server's own DAVE role (`VoiceDAVECoordinator`, the same one `SimulatedVoiceServer` runs), messages
/// delivered synchronously. For tests, benchmarks and the dave-interop harness that need members in one group.
public final class InMemoryDAVECall {
    public let channelID: UInt64
    public let clock: any Realtime.MonotonicClock
    /// Every member in the call.
    public private(set) var participants: [UInt64: any InMemoryDAVEMember] = [:]
    /// What each member sent to the server, in order.
    public private(set) var sent: [UInt64: [DAVEClientMessage]] = [:]
    /// When set, this member's op 27 is delivered before the others', so its op 28 reaches the server first and
    /// wins (on the network, whichever commit arrives first wins). A new group is formed by its first joiner.
    public var preferredCommitter: UInt64?
    let coordinator: VoiceDAVECoordinator
    private let outbox: Outbox

    private final class Outbox {
        var queue: [(UInt64, VoiceDAVECoordinator.Outbound)] = []
    }

    /// `log` receives the voice server's DAVE log lines (transitions, op 31 answers, resets).
    public init(
        channelID: UInt64 = 927_310_423_890_473_011, clock: any Realtime.MonotonicClock,
        log: @escaping (String) -> Void = { _ in }
    ) throws {
        self.channelID = channelID
        self.clock = clock
        let outbox = Outbox()
        self.outbox = outbox
        coordinator = try VoiceDAVECoordinator(
            channelID: channelID, send: { outbox.queue.append(($0, $1)) }, log: log)
    }

    /// Our members (`VoiceE2EE`) by user id.
    public var members: [UInt64: VoiceE2EE] { participants.compactMapValues { $0 as? VoiceE2EE } }

    /// Users in the established group.
    public var groupMembers: [UInt64] { coordinator.groupMembers }

    /// The established group's epoch as the server counts it (0 while no group exists).
    public var epoch: UInt64 { coordinator.epoch }

    /// The server's external-sender role (op 25), for harnesses that build their own proposals.
    public var externalSender: DAVEExternalSenderRole { coordinator.role }

    /// Op 31 answers the server received so far.
    public var invalidAnswers: Int { coordinator.invalidAnswers }

    /// The next op 29 to `userID` is damaged.
    public func corruptNextCommit(for userID: UInt64) { coordinator.corruptNextCommit.insert(userID) }

    /// Downgrades the call to plain Opus (op 21 version 0 → op 23s → op 22).
    public func downgrade() throws {
        coordinator.startDowngrade()
        try pump()
    }

    /// Upgrades it back to DAVE (op 24 epoch 1 → key packages → commit/Welcome → op 23s → op 22).
    public func upgrade() throws {
        coordinator.startUpgrade(members: Array(participants.keys).sorted())
        try pump()
    }

    /// Our member (`VoiceE2EE`) for `userID` connects; see `join(_:)`.
    public func join(_ userID: UInt64) throws {
        try join(VoiceE2EE(selfUserID: userID, channelID: channelID, clock: clock))
    }

    /// A member connects (op 11 to everyone), starts DAVE and takes part in the transitions that follow; returns
    /// once no message is left in flight.
    public func join(_ member: any InMemoryDAVEMember) throws {
        let userID = member.userID
        member.usersConnected(Array(participants.keys))
        for other in participants.values { other.usersConnected([userID]) }
        participants[userID] = member
        deliver(from: userID, try member.start(protocolVersion: 1))
        coordinator.memberJoined(userID)
        try pump()
    }

    /// A member leaves (op 13 to the others).
    public func leave(_ userID: UInt64) throws {
        participants[userID] = nil
        for other in participants.values { other.userDisconnected(userID) }
        coordinator.memberLeft(userID)
        try pump()
    }

    /// Hands messages a member produced (e.g. op 31 after failures) to the server, then runs the exchange.
    public func deliver(from userID: UInt64, _ messages: [DAVEClientMessage]) {
        sent[userID, default: []] += messages
        for message in messages {
            switch message {
            case .keyPackage(let kp): coordinator.keyPackage(from: userID, kp)
            case .commitWelcome(let cw): coordinator.commitWelcome(from: userID, cw)
            case .readyForTransition(let id): coordinator.ready(from: userID, transitionID: id)
            case .invalidCommitWelcome(let id): coordinator.invalid(from: userID, transitionID: id)
            }
        }
    }

    /// Delivers server messages until none are left (the preferred committer's op 27 first).
    public func pump() throws {
        while !outbox.queue.isEmpty {
            // Only the committer's next message may jump the queue: each member still sees its ops in order.
            var next = 0
            if let committer = preferredCommitter,
                let first = outbox.queue.firstIndex(where: { $0.0 == committer }),
                case .binary(27, _) = outbox.queue[first].1
            {
                next = first
            }
            let (userID, message) = outbox.queue.remove(at: next)
            guard let member = participants[userID] else { continue }
            let event: VoiceGatewayEvent
            switch message {
            case .binary(let op, let payload):
                event = .daveBinary(opcode: op, payload: payload)
            case .json(let op, let d):
                let transition = UInt16(d["transition_id"] ?? 0)
                let version = UInt16(d["protocol_version"] ?? 1)
                switch op {
                case 21: event = .davePrepareTransition(.init(protocolVersion: version, transitionID: transition))
                case 22: event = .daveExecuteTransition(.init(transitionID: transition))
                case 24:
                    event = .davePrepareEpoch(
                        .init(
                            protocolVersion: version, epoch: UInt64(d["epoch"] ?? 0),
                            transitionID: transition))
                default: continue
                }
            }
            deliver(from: userID, try member.handle(event))
        }
    }
}
