import DAVE
import MLS
import Foundation

/// Release-build measurements: per-frame DAVE encrypt/decrypt, and commit/Welcome processing by group size.
enum Bench {
    static func run() throws {
        try frames()
        for size in [2, 10, 50] { try groupTransition(size: size) }
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// One 20 ms Opus frame (120 bytes ≈ 48 kbit/s) through encrypt and decrypt.
    static func frames(iterations: Int = 20_000) throws {
        let base = (0..<16).map { UInt8($0 * 11) }
        let encryptor = FrameEncryptor()
        encryptor.setRatchet(SenderKeyRatchet(baseSecret: base))
        let decryptor = FrameDecryptor(clock: SystemMonotonicClock())
        decryptor.transition(to: SenderKeyRatchet(baseSecret: base))
        let opus = Checks.opusFrame(seed: 7, length: 120)
        var encrypted: [UInt8] = []
        var decrypted: [UInt8] = []
        var frames: [[UInt8]] = []
        frames.reserveCapacity(iterations)
        let encryptStart = now()
        for _ in 0..<iterations {
            try encryptor.encrypt(opus: opus, into: &encrypted)
            frames.append(encrypted)
        }
        let encryptNanos = now() - encryptStart
        let decryptStart = now()
        for frame in frames { try decryptor.decrypt(frame: frame, into: &decrypted) }
        let decryptNanos = now() - decryptStart
        guard decrypted == opus else { throw InteropFailure("bench round trip mismatch") }
        print(String(format: "frame (120 B Opus): encrypt %.2f µs, decrypt %.2f µs (%d frames)",
                     Double(encryptNanos) / Double(iterations) / 1000, Double(decryptNanos) / Double(iterations) / 1000,
                     iterations))
    }

    /// Forms a group of `size` members, then times one more Add: op 29 at an existing non-committer member
    /// (or the committer's own commit for size 1 groups) and op 30 at the joiner.
    static func groupTransition(size: Int) throws {
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
        let receiver = size > 1 ? sessions[1] : sessions[0]
        if size > 1 { _ = try sessions[1].handleProposals(DAVEProposalsPayload.append([add]).encoded) }
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
        print(String(format: "group %2d → %2d members: process commit %.2f ms%@, process welcome %.2f ms",
                     size, size + 1, Double(commitNanos) / 1e6, size > 1 ? "" : " (own commit)",
                     Double(welcomeNanos) / 1e6))
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
