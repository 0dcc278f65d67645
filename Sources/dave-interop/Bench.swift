import DAVE
import Foundation
import MLS
import Realtime

/// Release-build measurements: per-frame DAVE encrypt/decrypt, and commit/Welcome processing by group size.
enum Bench {
    /// Each figure is the median of `rounds` runs (the machine is shared).
    static func run(rounds: Int = 5) throws {
        let frameRuns = try (0..<rounds).map { _ in try frames() }
        print(
            String(
                format: "frame (120 B Opus = one 20 ms frame, median of %d × 20000): encrypt %.2f µs, decrypt %.2f µs",
                rounds, median(frameRuns.map(\.encrypt)), median(frameRuns.map(\.decrypt))))
        for size in [2, 10, 50] {
            let runs = try (0..<rounds).map { _ in try groupTransitions(size: size) }
            print(
                String(
                    format: "group %2d → %2d members, Add (no path), median of %d: process commit %.2f ms, "
                        + "process welcome %.2f ms", size, size + 1, rounds,
                    median(runs.map(\.addCommit)), median(runs.map(\.welcome))))
            print(
                String(
                    format: "group %2d → %2d members, Remove + UpdatePath, median of %d: create commit %.2f ms, "
                        + "process commit %.2f ms", size + 1, size, rounds,
                    median(runs.map(\.removeCreate)), median(runs.map(\.removeProcess))))
        }
    }

    private static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    private static func now() -> UInt64 { SystemClock.now() }

    private static func milliseconds(since start: UInt64) -> Double { Double(now() - start) / 1e6 }

    /// One 20 ms Opus frame (120 bytes ≈ 48 kbit/s) through encrypt and decrypt.
    static func frames(iterations: Int = 20_000) throws -> (encrypt: Double, decrypt: Double) {
        let base = (0..<16).map { UInt8($0 * 11) }
        let encryptor = FrameEncryptor()
        encryptor.setRatchet(SenderKeyRatchet(baseSecret: base))
        let decryptor = FrameDecryptor(clock: SystemClock.shared)
        decryptor.transition(to: SenderKeyRatchet(baseSecret: base))
        let opus = Checks.opusFrame(seed: 7, length: 120)
        var encrypted: [UInt8] = []
        var decrypted: [UInt8] = []
        let encryptStart = now()
        for _ in 0..<iterations { try encryptor.encrypt(opus: opus, into: &encrypted) }
        let encryptNanos = now() - encryptStart
        let sender = FrameEncryptor()
        sender.setRatchet(SenderKeyRatchet(baseSecret: base))
        let frames = try (0..<iterations).map { _ in try sender.encrypt(opus: opus) }
        let decryptStart = now()
        for frame in frames { try decryptor.decrypt(frame: frame, into: &decrypted) }
        let decryptNanos = now() - decryptStart
        guard decrypted == opus else { throw InteropFailure("bench round trip mismatch") }
        return (Double(encryptNanos) / Double(iterations) / 1000, Double(decryptNanos) / Double(iterations) / 1000)
    }

    /// Timings of one round, in milliseconds.
    struct Transitions {
        /// An existing non-committer member processes an Add commit (op 29).
        var addCommit: Double
        /// The joiner processes the Welcome (op 30).
        var welcome: Double
        /// The committer turns a Remove proposal into a commit with UpdatePath (op 27 → op 28).
        var removeCreate: Double
        /// Another member processes that commit (op 29), decrypting a path secret.
        var removeProcess: Double
    }

    /// Forms a group of `size` (≥ 2) members with member 0 committing, times one more Add (op 29 at member 1,
    /// op 30 at the joiner), then a Remove of leaf 1 committed by member 0 and processed by the joiner.
    static func groupTransitions(size: Int) throws -> Transitions {
        let channelID: UInt64 = 927_310_423_890_473_011
        let role = try DAVEExternalSenderRole(channelID: channelID)
        let userIDs = (0...size).map { UInt64(1_000 + $0) }
        var sessions: [DAVESession] = []
        var keyPackages: [[UInt8]] = []
        for userID in userIDs {
            let session = DAVESession(selfUserID: userID, channelID: channelID)
            session.addRecognizedUsers(userIDs)
            let sent = try session.handleSelectProtocol(version: 1) + session.handleExternalSender(role.package.encoded)
            guard case .keyPackage(let keyPackage)? = sent.first else { throw InteropFailure("no op 26") }
            sessions.append(session)
            keyPackages.append(keyPackage)
        }
        let formation = try (1..<size).map { try role.add(keyPackagePayload: keyPackages[$0], epoch: 0).message }
        if !formation.isEmpty {
            let (commit, welcome) = try commitWelcome(sessions[0], DAVEProposalsPayload.append(formation).encoded)
            _ = try sessions[0].handleAnnounceCommit(DAVEAnnounceCommit(transitionID: 1, commit: commit).encoded)
            for index in 1..<size {
                _ = try sessions[index].handleWelcome(DAVEWelcomePayload(transitionID: 1, welcome: welcome).encoded)
            }
        }

        // Add: member 0 adds the last user; member 1 processes the commit, the joiner the Welcome.
        let add = try role.add(keyPackagePayload: keyPackages[size], epoch: sessions[0].epoch ?? 0).message
        let addProposals = DAVEProposalsPayload.append([add]).encoded
        let (commit, welcome) = try commitWelcome(sessions[0], addProposals)
        let announce = DAVEAnnounceCommit(transitionID: 2, commit: commit).encoded
        let receiver = sessions[1], joiner = sessions[size]
        _ = try receiver.handleProposals(addProposals)
        var start = now()
        let commitReply = try receiver.handleAnnounceCommit(announce)
        let addCommit = milliseconds(since: start)
        start = now()
        let welcomeReply = try joiner.handleWelcome(DAVEWelcomePayload(transitionID: 2, welcome: welcome).encoded)
        let welcomeTime = milliseconds(since: start)
        guard commitReply == [.readyForTransition(transitionID: 2)], welcomeReply == commitReply,
            joiner.epochAuthenticator == receiver.epochAuthenticator
        else {
            throw InteropFailure("bench Add for \(size) members did not converge")
        }
        _ = try sessions[0].handleAnnounceCommit(announce)

        // Remove: member 0 removes leaf 1 with an UpdatePath; the joiner processes it.
        let remove = try role.remove(leafIndex: 1, epoch: sessions[0].epoch ?? 0).message
        let removeProposals = DAVEProposalsPayload.append([remove]).encoded
        _ = try joiner.handleProposals(removeProposals)
        start = now()
        let removeBody = try op28(sessions[0], removeProposals)
        let removeCreate = milliseconds(since: start)
        let removeCommit = try DAVECommitWelcome(payload: removeBody).commit
        guard case .publicMessage(let message) = removeCommit, case .commit(let body) = message.content.body,
            body.path != nil
        else { throw InteropFailure("bench Remove commit has no UpdatePath") }
        let removeAnnounce = DAVEAnnounceCommit(transitionID: 3, commit: removeCommit).encoded
        start = now()
        let removeReply = try joiner.handleAnnounceCommit(removeAnnounce)
        let removeProcess = milliseconds(since: start)
        _ = try sessions[0].handleAnnounceCommit(removeAnnounce)
        guard removeReply == [.readyForTransition(transitionID: 3)], joiner.members.count == size,
            joiner.epochAuthenticator == sessions[0].epochAuthenticator
        else {
            throw InteropFailure("bench Remove for \(size + 1) members did not converge")
        }
        return Transitions(
            addCommit: addCommit, welcome: welcomeTime, removeCreate: removeCreate,
            removeProcess: removeProcess)
    }

    private static func op28(_ session: DAVESession, _ proposals: [UInt8]) throws -> [UInt8] {
        guard case .commitWelcome(let body)? = try session.handleProposals(proposals).first else {
            throw InteropFailure("no op 28")
        }
        return body
    }

    private static func commitWelcome(_ session: DAVESession, _ proposals: [UInt8]) throws -> (MLSMessage, Welcome) {
        let parsed = try DAVECommitWelcome(payload: op28(session, proposals))
        guard let welcome = parsed.welcome else { throw InteropFailure("no Welcome") }
        return (parsed.commit, welcome)
    }
}
