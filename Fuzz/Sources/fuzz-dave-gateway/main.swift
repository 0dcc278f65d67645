import DAVE
import FuzzSupport
import MLS
import Realtime

// DAVE voice gateway binary payloads (ops 25-30) and the session state machine behind them. The harness plays the
// voice gateway for two members, alice (1) and bob (2): the input is a script of one-byte actions, some honest
// (announce the external sender, add a member's key package, relay the last commit and Welcome, execute a transition,
// exchange media) and some hostile (raw op 21/22/24/25/27/29/30 payloads, recognise users, advance time), each
// followed by its arguments. Every payload also goes through its parser alone, which must round-trip.
let role = try! DAVEExternalSenderRole(channelID: Gateway.channelID)  // one P-256 key for the whole run

/// Each parser alone: a payload it accepts re-encodes to the same bytes.
func parseAlone(op: UInt8, _ payload: [UInt8]) {
    switch op {
    case 25:
        if let p = try? DAVEExternalSenderPackage(payload: payload) { precondition(p.encoded == payload, "op 25") }
    case 27:
        if let p = try? DAVEProposalsPayload(payload: payload) { precondition(p.encoded == payload, "op 27") }
    case 28:
        if let p = try? DAVECommitWelcome(payload: payload) { precondition(p.encoded == payload, "op 28") }
    case 29:
        if let p = try? DAVEAnnounceCommit(payload: payload) { precondition(p.encoded == payload, "op 29") }
    case 30:
        if let p = try? DAVEWelcomePayload(payload: payload) { precondition(p.encoded == payload, "op 30") }
    default:
        break
    }
}

final class Gateway {
    static let channelID: UInt64 = 927_310_423_890_473_011
    static let aliceKey: [UInt8] = Array(1...32)
    static let bobKey: [UInt8] = Array(33...64)
    let role: DAVEExternalSenderRole
    let clock = ManualClock()
    let alice: DAVESession
    let bob: DAVESession
    var keyPackages: [UInt64: [UInt8]] = [:]
    var lastCommit: DAVECommitWelcome?

    init(role: DAVEExternalSenderRole) {
        self.role = role
        alice = DAVESession(selfUserID: 1, channelID: Self.channelID, clock: clock, signaturePrivateKey: Self.aliceKey)
        bob = DAVESession(selfUserID: 2, channelID: Self.channelID, clock: clock, signaturePrivateKey: Self.bobKey)
    }

    func session(_ selector: UInt8) -> DAVESession { selector & 1 == 0 ? alice : bob }

    /// Sends `call`'s replies where a voice gateway would: key packages are kept, commits remembered.
    func deliver(_ session: DAVESession, _ call: () throws -> [DAVEClientMessage]) {
        guard let replies = try? call() else { return }
        for reply in replies {
            switch reply {
            case .keyPackage(let bytes):
                keyPackages[session.selfUserID] = bytes
                parseAlone(op: 26, bytes)
            case .commitWelcome(let bytes):
                guard let parsed = try? DAVECommitWelcome(payload: bytes) else {
                    preconditionFailure("the session sent an op 28 its own parser refuses")
                }
                precondition(parsed.encoded == bytes, "op 28 from the session does not round-trip")
                lastCommit = parsed
            case .readyForTransition, .invalidCommitWelcome:
                break
            }
        }
    }

    func step(_ input: inout FuzzInput) {
        let action = input.byte()
        let target = session(input.byte())
        switch action % 16 {
        case 0: deliver(target) { try target.handleSelectProtocol(version: UInt16(input.byte() % 3)) }
        case 1: for s in [alice, bob] { deliver(s) { try s.handleExternalSender(role.package.encoded) } }
        case 2:
            guard let package = keyPackages[2] ?? keyPackages[1],
                let add = try? role.add(keyPackagePayload: package, epoch: UInt64(input.byte() % 3))
            else { return }
            let payload = DAVEProposalsPayload.append([add.message]).encoded
            deliver(target) { try target.handleProposals(payload) }
        case 3:
            guard let commit = lastCommit else { return }
            let id = UInt16(input.byte() % 4)
            let announce = DAVEAnnounceCommit(transitionID: id, commit: commit.commit).encoded
            for s in [alice, bob] { deliver(s) { try s.handleAnnounceCommit(announce) } }
            if let welcome = commit.welcome {
                let payload = DAVEWelcomePayload(transitionID: id, welcome: welcome).encoded
                deliver(bob) { try bob.handleWelcome(payload) }
            }
        case 4:
            let id = UInt16(input.byte() % 4)
            for s in [alice, bob] { s.handleExecuteTransition(DAVEExecuteTransition(transitionID: id)) }
        case 5:
            guard let remove = try? role.remove(leafIndex: UInt32(input.byte()), epoch: UInt64(input.byte() % 4))
            else { return }
            let payload = DAVEProposalsPayload.append([remove.message]).encoded
            deliver(target) { try target.handleProposals(payload) }
        case 6:
            let frame = input.record()
            let (sender, receiver) = target === alice ? (alice, bob) : (bob, alice)
            if let encrypted = try? sender.encrypt(opus: frame) {
                _ = try? receiver.decrypt(userID: sender.selfUserID, frame: encrypted)
            }
            _ = try? receiver.decrypt(userID: sender.selfUserID, frame: frame)
        case 7:
            let version = input.u16(), id = input.u16()
            deliver(target) {
                target.handlePrepareTransition(DAVEPrepareTransition(protocolVersion: version, transitionID: id))
            }
        case 8: target.handleExecuteTransition(DAVEExecuteTransition(transitionID: input.u16()))
        case 9:
            let version = input.u16(), epoch = UInt64(input.byte() % 4), id = input.u16()
            deliver(target) {
                try target.handlePrepareEpoch(
                    DAVEPrepareEpoch(protocolVersion: version, epoch: epoch, transitionID: id))
            }
        case 10: target.addRecognizedUsers([UInt64(input.byte() % 4)])
        case 11: target.removeRecognizedUser(UInt64(input.byte() % 4))
        case 12: clock.advance(seconds: Double(input.byte()) / 10)
        default:
            let op: UInt8 = [25, 27, 29, 30][Int(input.byte() % 4)]
            let payload = input.record()
            parseAlone(op: op, payload)
            switch op {
            case 25: deliver(target) { try target.handleExternalSender(payload) }
            case 27: deliver(target) { try target.handleProposals(payload) }
            case 29: deliver(target) { try target.handleAnnounceCommit(payload) }
            default: deliver(target) { try target.handleWelcome(payload) }
            }
        }
        // What a client shows after each op (verification codes are left out: scrypt over validated keys, ~16 MiB
        // and tens of milliseconds each, would dominate the run without touching any parser).
        _ = target.epoch
        _ = target.privacyCode
        _ = target.members
    }
}

FuzzDriver.run { data in
    var input = FuzzInput(data)
    let gateway = Gateway(role: role)
    var steps = 0
    while !input.isAtEnd && steps < 64 {
        gateway.step(&input)
        steps += 1
    }
}
