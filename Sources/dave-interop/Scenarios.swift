import DAVE
import DiscordSimulator
import Foundation
import MLS
import Realtime

/// The interop scenarios; each builds a channel with our member, a dave.py member and a davey member.
struct Scenarios {
    static let channelID: UInt64 = 927_310_423_890_473_011
    static let names = [
        "three-members", "frames-each-way", "swift-commits", "swift-welcomed", "invalid-commit",
        "external-proposals",
    ]

    let driver: PythonDriver
    let log: (String) -> Void
    private var nextUserID: UInt64 = 158_049_329_150_427_136

    init(driver: PythonDriver, log: @escaping (String) -> Void) {
        self.driver = driver
        self.log = log
    }

    mutating func run(_ name: String) throws {
        switch name {
        case "three-members": try threeMembers()
        case "frames-each-way": try framesEachWay()
        case "swift-commits": try swiftCommits()
        case "swift-welcomed": try swiftWelcomed()
        case "invalid-commit": try invalidCommit()
        case "external-proposals": try externalProposals()
        default: throw InteropFailure("unknown scenario \(name); known: \(Self.names.joined(separator: ", "))")
        }
    }

    private mutating func newUserID() -> UInt64 {
        nextUserID += 1_000_003
        return nextUserID
    }

    private mutating func swiftMember() -> SwiftMember { SwiftMember(userID: newUserID(), channelID: Self.channelID) }

    private mutating func python(_ kind: String) throws -> PythonMember {
        let userID = newUserID()
        return try PythonMember(
            kind: kind, name: "\(kind)-\(userID % 10_000)", userID: userID,
            channelID: Self.channelID, driver: driver)
    }

    /// A call on the simulator's voice server role (`InMemoryDAVECall`); `committer` wins every commit.
    private func call(committer: any InteropMember) throws -> InMemoryDAVECall {
        let call = try InMemoryDAVECall(channelID: Self.channelID, clock: SystemClock.shared, log: log)
        call.preferredCommitter = committer.userID
        return call
    }

    /// Our member, dave.py and davey agree on epoch, authenticator, privacy code and verification codes, and every
    /// member's frames decrypt byte-exact at the other two.
    private mutating func threeMembers() throws {
        let ours = swiftMember(), libdave = try python("libdave"), davey = try python("davey")
        let call = try call(committer: davey)
        for member in [davey, ours, libdave] as [any InteropMember] { try call.join(member) }
        try Checks(call: call, log: log).verify(checkVerificationCodes: true)
    }

    /// Opus frames encrypted by each of the three members are decrypted byte-exact by the other two; one log line
    /// per ordered pair (six), in a group committed by libdave so each implementation's ratchets come from a
    /// foreign commit or Welcome.
    private mutating func framesEachWay() throws {
        let ours = swiftMember(), libdave = try python("libdave"), davey = try python("davey")
        let call = try call(committer: libdave)
        for member in [libdave, davey, ours] as [any InteropMember] { try call.join(member) }
        try Checks(call: call, log: log).verifyFrames(framesPerSender: 5, logPairs: true)
    }

    /// Our member commits: the group forms, a member joins, one leaves (Remove), and it re-joins.
    private mutating func swiftCommits() throws {
        let ours = swiftMember(), libdave = try python("libdave")
        let call = try call(committer: ours)
        let checks = Checks(call: call, log: log)
        try call.join(ours)
        try call.join(libdave)
        try checks.verify()
        let davey = try python("davey")
        try call.join(davey)
        try checks.verify()
        try call.leave(davey.userID)
        try checks.verify()
        let daveyAgain = try PythonMember(
            kind: "davey", name: "davey-rejoin", userID: davey.userID,
            channelID: Self.channelID, driver: driver)
        try call.join(daveyAgain)
        try checks.verify()
    }

    /// Our member is welcomed: into a group formed by davey, after a leave, and again after leaving and re-joining.
    private mutating func swiftWelcomed() throws {
        let davey = try python("davey"), libdave = try python("libdave")
        let call = try call(committer: davey)
        let checks = Checks(call: call, log: log)
        try call.join(davey)
        try call.join(libdave)
        try checks.verify()
        let ours = swiftMember()
        call.preferredCommitter = libdave.userID
        try call.join(ours)
        try checks.verify()
        call.preferredCommitter = davey.userID
        try call.leave(ours.userID)
        try checks.verify()
        try call.join(SwiftMember(userID: ours.userID, channelID: Self.channelID))
        try checks.verify()
    }

    /// A damaged op 29 makes a member answer op 31 with a new key package; the voice server removes its stale leaf
    /// and re-adds it, after which all agree again. Done for our member and for davey.
    private mutating func invalidCommit() throws {
        let ours = swiftMember(), libdave = try python("libdave"), davey = try python("davey")
        let call = try call(committer: libdave)
        let checks = Checks(call: call, log: log)
        for member in [libdave, ours, davey] as [any InteropMember] { try call.join(member) }
        try checks.verify()
        for victim in [ours, davey] as [any InteropMember] {
            let before = call.sent.mapValues { $0.filter(Self.isInvalid).count }
            let answersBefore = call.invalidAnswers
            call.corruptNextCommit(for: victim.userID)
            try call.join(python("libdave"))
            let answered = call.sent.filter { $0.value.filter(Self.isInvalid).count > before[$0.key] ?? 0 }.map(\.key)
            guard answered == [victim.userID], call.invalidAnswers == answersBefore + 1 else {
                throw InteropFailure("expected only \(victim.name) to answer op 31, got \(answered)")
            }
            log("\(victim.name) answered op 31 and was re-added")
            guard call.groupMembers.contains(victim.userID) else { throw InteropFailure("\(victim.name) not re-added") }
            try checks.verify()
        }
    }

    private static func isInvalid(_ message: DAVEClientMessage) -> Bool {
        if case .invalidCommitWelcome = message { return true }
        return false
    }

    /// Every implementation accepts the voice server's signed external Add (commits it, op 28) and honours a revoke
    /// of it.
    private mutating func externalProposals() throws {
        for kind in ["swift", "libdave", "davey"] {
            let role = try InMemoryDAVECall(channelID: Self.channelID, clock: SystemClock.shared).externalSender
            let member: any InteropMember = kind == "swift" ? swiftMember() : try python(kind)
            let joiner = try python("davey")
            let recognized = [member.userID, joiner.userID]
            func keyPackage(_ client: any InteropMember) throws -> [UInt8] {
                client.usersConnected(recognized)
                let sent =
                    try client.start(protocolVersion: 1)
                    + client.handle(.daveBinary(opcode: 25, payload: role.package.encoded))
                guard case .keyPackage(let keyPackage)? = sent.last else {
                    throw InteropFailure("\(client.name): no op 26 after op 25")
                }
                return keyPackage
            }
            _ = try keyPackage(member)
            let add = try role.add(keyPackagePayload: keyPackage(joiner), epoch: 0)
            let append = DAVEProposalsPayload.append([add.message]).encoded
            guard case .commitWelcome(let commit)? = try member.handle(.daveBinary(opcode: 27, payload: append)).first
            else {
                throw InteropFailure("\(member.name) did not commit our external Add")
            }
            let parsed = try DAVECommitWelcome(payload: commit)
            guard parsed.welcome != nil else { throw InteropFailure("\(member.name) committed an Add without Welcome") }
            let revoke = DAVEProposalsPayload.revoke([add.reference]).encoded
            // davey and our session answer a revoke that empties the queue with no commit; libdave may answer
            // with an empty commit. Either way the revoked Add must be gone.
            if case .commitWelcome(let recommit)? = try member.handle(.daveBinary(opcode: 27, payload: revoke)).first {
                let parsed = try DAVECommitWelcome(payload: recommit)
                guard case .publicMessage(let message) = parsed.commit, case .commit(let body) = message.content.body,
                    parsed.welcome == nil, !body.proposals.contains(.reference(add.reference))
                else {
                    throw InteropFailure("\(member.name) still commits the revoked Add")
                }
            }
            log("\(member.name): external Add committed, revoke honoured")
        }
    }
}
