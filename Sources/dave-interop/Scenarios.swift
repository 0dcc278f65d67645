import DAVE
import Foundation
import MLS

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

    private func server() throws -> VoiceServer {
        let server = try VoiceServer(channelID: Self.channelID)
        server.log = log
        return server
    }

    /// Our member, dave.py and davey agree on epoch, authenticator, privacy code and verification codes, and every
    /// member's frames decrypt byte-exact at the other two.
    private mutating func threeMembers() throws {
        let server = try server()
        let ours = swiftMember(), libdave = try python("libdave"), davey = try python("davey")
        for member in [davey, ours, libdave] as [InteropMember] { try server.connect(member) }
        try server.commit(committer: davey)
        try Checks(server: server, log: log).verify(checkVerificationCodes: true)
    }

    /// Opus frames encrypted by each of the three members are decrypted byte-exact by the other two; one log line
    /// per ordered pair (six), in a group committed by libdave so each implementation's ratchets come from a
    /// foreign commit or Welcome.
    private mutating func framesEachWay() throws {
        let server = try server()
        let ours = swiftMember(), libdave = try python("libdave"), davey = try python("davey")
        for member in [libdave, davey, ours] as [InteropMember] { try server.connect(member) }
        try server.commit(committer: libdave)
        try Checks(server: server, log: log).verifyFrames(framesPerSender: 5, logPairs: true)
    }

    /// Our member commits: the group forms, a member joins, one leaves (Remove), and it re-joins.
    private mutating func swiftCommits() throws {
        let server = try server()
        let checks = Checks(server: server, log: log)
        let ours = swiftMember(), libdave = try python("libdave")
        try server.connect(ours)
        try server.connect(libdave)
        try server.commit(committer: ours)
        try checks.verify()
        let davey = try python("davey")
        try server.connect(davey)
        try server.commit(committer: ours)
        try checks.verify()
        guard let leaf = server.disconnect(davey) else { throw InteropFailure("davey has no leaf") }
        try server.commit(removing: [leaf], committer: ours)
        try checks.verify()
        let daveyAgain = try PythonMember(
            kind: "davey", name: "davey-rejoin", userID: davey.userID,
            channelID: Self.channelID, driver: driver)
        try server.connect(daveyAgain)
        try server.commit(committer: ours)
        try checks.verify()
    }

    /// Our member is welcomed: into a group formed by davey, after a leave, and again after leaving and re-joining.
    private mutating func swiftWelcomed() throws {
        let server = try server()
        let checks = Checks(server: server, log: log)
        let davey = try python("davey"), libdave = try python("libdave")
        try server.connect(davey)
        try server.connect(libdave)
        try server.commit(committer: davey)
        try checks.verify()
        let ours = swiftMember()
        try server.connect(ours)
        try server.commit(committer: libdave)
        try checks.verify()
        guard let leaf = server.disconnect(ours) else { throw InteropFailure("swift member has no leaf") }
        try server.commit(removing: [leaf], committer: davey)
        try checks.verify()
        let oursAgain = SwiftMember(userID: ours.userID, channelID: Self.channelID)
        try server.connect(oursAgain)
        try server.commit(committer: davey)
        try checks.verify()
    }

    /// A damaged op 29 makes a member answer op 31 with a new key package; the server removes its stale leaf and
    /// re-adds it, after which all three agree again. Done for our member and for davey.
    private mutating func invalidCommit() throws {
        let server = try server()
        let checks = Checks(server: server, log: log)
        let ours = swiftMember(), libdave = try python("libdave"), davey = try python("davey")
        for member in [libdave, ours, davey] as [InteropMember] { try server.connect(member) }
        try server.commit(committer: libdave)
        try checks.verify()
        for victim in [ours, davey] as [InteropMember] {
            let extra = try python("libdave")
            try server.connect(extra)
            let failed = try server.commit(committer: libdave, corrupting: [victim.userID])
            guard failed.count == 1, failed[0] === victim else {
                throw InteropFailure("expected only \(victim.name) to answer op 31, got \(failed.map(\.name))")
            }
            guard let stale = server.leaf(of: victim) else { throw InteropFailure("no stale leaf") }
            try server.commit(removing: [stale], committer: libdave)
            try checks.verify()
        }
    }

    /// Every implementation accepts our signed external Add (commits it, op 28) and honours a revoke of it.
    private mutating func externalProposals() throws {
        for kind in ["swift", "libdave", "davey"] {
            let server = try server()
            let member: InteropMember = kind == "swift" ? swiftMember() : try python(kind)
            let joiner = try python("davey")
            let recognized = [member.userID, joiner.userID]
            _ = try member.start(externalSender: server.role.package.encoded, recognized: recognized)
            let joinerPackage = try joiner.start(externalSender: server.role.package.encoded, recognized: recognized)
            let add = try server.role.add(keyPackagePayload: joinerPackage, epoch: 0)
            let append = DAVEProposalsPayload.append([add.message]).encoded
            guard let commit = try member.proposals(append, recognized: recognized) else {
                throw InteropFailure("\(member.name) did not commit our external Add")
            }
            let parsed = try DAVECommitWelcome(payload: commit)
            guard parsed.welcome != nil else { throw InteropFailure("\(member.name) committed an Add without Welcome") }
            let revoke = DAVEProposalsPayload.revoke([add.reference]).encoded
            // davey and our session answer a revoke that empties the queue with no commit; libdave may answer
            // with an empty commit. Either way the revoked Add must be gone.
            if let recommit = try member.proposals(revoke, recognized: recognized) {
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
