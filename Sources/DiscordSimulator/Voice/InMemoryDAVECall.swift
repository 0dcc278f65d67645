import DAVE
import DiscordVoice
import Realtime

/// A DAVE call without sockets: `VoiceE2EE` members and the voice server's `VoiceDAVECoordinator`, messages
/// delivered synchronously. For tests and benchmarks that need members in one group.
public final class InMemoryDAVECall {
    public let channelID: UInt64
    public let clock: any Realtime.MonotonicClock
    public private(set) var members: [UInt64: VoiceE2EE] = [:]
    /// What each member sent to the server, in order.
    public private(set) var sent: [UInt64: [DAVEClientMessage]] = [:]
    let coordinator: VoiceDAVECoordinator
    private let outbox: Outbox

    private final class Outbox {
        var queue: [(UInt64, VoiceDAVECoordinator.Outbound)] = []
    }

    public init(channelID: UInt64 = 927_310_423_890_473_011, clock: any Realtime.MonotonicClock) throws {
        self.channelID = channelID
        self.clock = clock
        let outbox = Outbox()
        self.outbox = outbox
        coordinator = try VoiceDAVECoordinator(
            channelID: channelID, send: { outbox.queue.append(($0, $1)) },
            log: { _ in })
    }

    /// Users in the established group.
    public var groupMembers: [UInt64] { coordinator.groupMembers }

    /// The next op 29 to `userID` is damaged.
    public func corruptNextCommit(for userID: UInt64) { coordinator.corruptNextCommit.insert(userID) }

    /// Downgrades the call to plain Opus (op 21 version 0 → op 23s → op 22).
    public func downgrade() throws {
        coordinator.startDowngrade()
        try pump()
    }

    /// Upgrades it back to DAVE (op 24 epoch 1 → key packages → commit/Welcome → op 23s → op 22).
    public func upgrade() throws {
        coordinator.startUpgrade(members: Array(members.keys).sorted())
        try pump()
    }

    /// A member connects (op 11 to everyone), starts DAVE and takes part in the transitions that follow.
    public func join(_ userID: UInt64) throws {
        let member = VoiceE2EE(selfUserID: userID, channelID: channelID, clock: clock)
        member.usersConnected(Array(members.keys))
        for other in members.values { other.usersConnected([userID]) }
        members[userID] = member
        deliver(from: userID, try member.start(protocolVersion: 1))
        coordinator.memberJoined(userID)
        try pump()
    }

    /// A member leaves (op 13 to the others).
    public func leave(_ userID: UInt64) throws {
        members[userID] = nil
        for other in members.values { other.userDisconnected(userID) }
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

    /// Delivers server messages until none are left.
    public func pump() throws {
        while !outbox.queue.isEmpty {
            let (userID, message) = outbox.queue.removeFirst()
            guard let member = members[userID] else { continue }
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
