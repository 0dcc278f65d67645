import DiscordSimulator
import Foundation

/// Cross-member assertions after each transition.
struct Checks {
    let call: InMemoryDAVECall
    let log: (String) -> Void

    /// Members of the established group, as the voice server counts them.
    private var groupMembers: [any InteropMember] {
        call.groupMembers.compactMap { call.participants[$0] as? any InteropMember }
    }

    /// Same epoch, authenticator and privacy code everywhere; frames from every member decrypt byte-exact at every
    /// other member; optionally our verification codes equal the peers'.
    ///
    /// The epoch is compared for every member that exposes it (`exposesEpoch`: our member and davey's
    /// `DaveSession.epoch`) and must equal the server's. dave.py 1.1.0 has no epoch accessor (its `Session` offers
    /// `get_last_epoch_authenticator` and `has_established_group` only), so for it the equal epoch authenticator
    /// stands in: it is derived from the epoch secret, whose GroupContext includes the epoch.
    func verify(checkVerificationCodes: Bool = false) throws {
        let members = groupMembers
        guard members.count >= 2 else { throw InteropFailure("group has \(members.count) members") }
        var reference: MemberState?
        var referenceName = ""
        var comparedCodes = 0
        for member in members {
            let verifying = checkVerificationCodes && member.computesVerificationCodes
            let peers = verifying ? members.filter { $0 !== member }.map(\.userID) : []
            let state = try member.state(verifying: peers)
            if member.exposesEpoch, state.epoch != call.epoch {
                throw InteropFailure(
                    "\(member.name) is at epoch \(state.epoch.map(String.init) ?? "none"), server at \(call.epoch)")
            }
            guard !state.authenticator.isEmpty, state.privacyCode.count == 30 else {
                throw InteropFailure("\(member.name) has no epoch authenticator / privacy code")
            }
            if let reference {
                guard state.authenticator == reference.authenticator else {
                    throw InteropFailure("\(member.name) and \(referenceName) disagree on the epoch authenticator")
                }
                guard state.privacyCode == reference.privacyCode else {
                    throw InteropFailure("\(member.name) and \(referenceName) disagree on the privacy code")
                }
            } else {
                reference = state
                referenceName = member.name
            }
            if verifying { comparedCodes += try compareVerificationCodes(of: member, state: state, members: members) }
        }
        if checkVerificationCodes, comparedCodes == 0 { throw InteropFailure("no peer exposed a verification code") }
        try verifyFrames()
        log(
            "epoch \(call.epoch): \(members.map(\.name).joined(separator: ", ")) agree; code \(reference?.privacyCode ?? "")"
        )
    }

    /// Every member DAVE-encrypts `framesPerSender` Opus frames; each of the other members decrypts every one of
    /// them back to the exact bytes. With `logPairs`, logs one `frames <sender> → <receiver>: n byte-exact` line
    /// per ordered pair.
    func verifyFrames(framesPerSender: Int = 3, logPairs: Bool = false) throws {
        let members = groupMembers
        for sender in members {
            var decrypted: [ObjectIdentifier: Int] = [:]
            for index in 0..<framesPerSender {
                let opus = Self.opusFrame(seed: sender.userID &+ UInt64(index) &+ call.epoch)
                let frame = try sender.encrypt(opus)
                guard frame != opus, frame.suffix(2) == [0xFA, 0xFA] else {
                    throw InteropFailure("\(sender.name) did not DAVE-encrypt")
                }
                for receiver in members where receiver !== sender {
                    guard let plain = try receiver.decrypt(sender: sender.userID, frame) else {
                        throw InteropFailure("\(receiver.name) could not decrypt \(sender.name)'s frame")
                    }
                    guard plain == opus else {
                        throw InteropFailure("\(receiver.name) decrypted \(sender.name)'s frame to different bytes")
                    }
                    decrypted[ObjectIdentifier(receiver), default: 0] += 1
                }
            }
            for receiver in members where receiver !== sender {
                let count = decrypted[ObjectIdentifier(receiver)] ?? 0
                guard count == framesPerSender else {
                    throw InteropFailure("\(receiver.name) decrypted \(count) frames")
                }
                if logPairs { log("frames \(sender.name) → \(receiver.name): \(count) byte-exact") }
            }
        }
    }

    /// Returns how many peers' codes were compared.
    private func compareVerificationCodes(of member: InteropMember, state: MemberState, members: [InteropMember]) throws
        -> Int
    {
        var compared = 0
        for peer in members where peer !== member {
            guard let code = state.verificationCodes[peer.userID] else { continue }
            guard code.count == 45 else {
                throw InteropFailure("\(member.name) verification code is \(code.count) digits")
            }
            let peerState = try peer.state(verifying: [member.userID])
            guard let peerCode = peerState.verificationCodes[member.userID] else { continue }
            guard peerCode == code else {
                throw InteropFailure("verification codes of \(member.name) and \(peer.name) differ")
            }
            log("\(member.name) and \(peer.name) show the same verification code")
            compared += 1
        }
        return compared
    }

    /// A plausible 20 ms Opus packet (TOC byte + payload), deterministic per seed.
    static func opusFrame(seed: UInt64, length: Int = 80) -> [UInt8] {
        var state = seed | 1
        return [0x78]
            + (1..<length).map { _ in
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                return UInt8(truncatingIfNeeded: state)
            }
    }
}
