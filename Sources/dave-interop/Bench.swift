import DAVE
import MLS
import Foundation

/// Release-build measurements: per-frame DAVE encrypt/decrypt, and commit/Welcome processing by group size.
enum Bench {
    /// Each figure is the median of `rounds` runs (the machine is shared).
    static func run(rounds: Int = 5) throws {
        let frameRuns = try (0..<rounds).map { _ in try frames() }
        print(String(format: "frame (120 B Opus, median of %d × 20000): encrypt %.2f µs, decrypt %.2f µs", rounds,
                     median(frameRuns.map(\.encrypt)), median(frameRuns.map(\.decrypt))))
        for size in [2, 10, 50] {
            let runs = try (0..<rounds).map { _ in try groupTransition(size: size) }
            print(String(format: "group %2d → %2d members (median of %d): process commit %.2f ms, process welcome %.2f ms",
                         size, size + 1, rounds, median(runs.map(\.commit)), median(runs.map(\.welcome))))
        }
    }

    private static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// One 20 ms Opus frame (120 bytes ≈ 48 kbit/s) through encrypt and decrypt.
    static func frames(iterations: Int = 20_000) throws -> (encrypt: Double, decrypt: Double) {
        let base = (0..<16).map { UInt8($0 * 11) }
        let encryptor = FrameEncryptor()
        encryptor.setRatchet(SenderKeyRatchet(baseSecret: base))
        let decryptor = FrameDecryptor(clock: SystemMonotonicClock())
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

    /// Forms a group of `size` (≥ 2) members, then times one more Add: op 29 at an existing non-committer member
    /// and op 30 at the joiner. Returns milliseconds.
    static func groupTransition(size: Int) throws -> (commit: Double, welcome: Double) {
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
        // Form the group of `size` with member 0 committing.
        let formation = try (1..<size).map { try role.add(keyPackagePayload: keyPackages[$0], epoch: 0).message }
        if !formation.isEmpty {
            let (commit, welcome) = try commitWelcome(sessions[0], DAVEProposalsPayload.append(formation).encoded)
            _ = try sessions[0].handleAnnounceCommit(DAVEAnnounceCommit(transitionID: 1, commit: commit).encoded)
            for index in 1..<size {
                _ = try sessions[index].handleWelcome(DAVEWelcomePayload(transitionID: 1, welcome: welcome).encoded)
            }
        }
        // The measured transition: member 0 adds the last user.
        let epoch = sessions[0].epoch ?? 0
        let add = try role.add(keyPackagePayload: keyPackages[size], epoch: epoch).message
        let (commit, welcome) = try commitWelcome(sessions[0], DAVEProposalsPayload.append([add]).encoded)
        let announce = DAVEAnnounceCommit(transitionID: 2, commit: commit).encoded
        let receiver = sessions[1]
        _ = try receiver.handleProposals(DAVEProposalsPayload.append([add]).encoded)
        let commitStart = now()
        let commitReply = try receiver.handleAnnounceCommit(announce)
        let commitNanos = now() - commitStart
        let welcomeStart = now()
        let welcomeReply = try sessions[size].handleWelcome(DAVEWelcomePayload(transitionID: 2, welcome: welcome).encoded)
        let welcomeNanos = now() - welcomeStart
        guard commitReply == [.readyForTransition(transitionID: 2)], welcomeReply == commitReply,
              sessions[size].epochAuthenticator == receiver.epochAuthenticator else {
            throw InteropFailure("bench transition for \(size) members did not converge")
        }
        return (Double(commitNanos) / 1e6, Double(welcomeNanos) / 1e6)
    }

    private static func commitWelcome(_ session: DAVESession, _ proposals: [UInt8]) throws -> (MLSMessage, Welcome) {
        guard case .commitWelcome(let body)? = try session.handleProposals(proposals).first else {
            throw InteropFailure("no op 28")
        }
        let parsed = try DAVECommitWelcome(payload: body)
        guard let welcome = parsed.welcome else { throw InteropFailure("no Welcome") }
        return (parsed.commit, welcome)
    }
}
