import Foundation

/// Cross-member assertions after each transition.
struct Checks {
    let server: VoiceServer
    let log: (String) -> Void

    /// Same epoch (where exposed), authenticator and privacy code everywhere; frames from every member decrypt
    /// byte-exact at every other member; optionally our verification codes equal davey's.
    func verify(checkVerificationCodes: Bool = false) throws {
        let members = server.groupMembers
        guard members.count >= 2 else { throw InteropFailure("group has \(members.count) members") }
        var reference: MemberState?
        var referenceName = ""
        var comparedCodes = 0
        for member in members {
            let verifying = checkVerificationCodes && member.computesVerificationCodes
            let peers = verifying ? members.filter { $0 !== member }.map(\.userID) : []
            let state = try member.state(verifying: peers)
            if let epoch = state.epoch, epoch != server.epoch {
                throw InteropFailure("\(member.name) is at epoch \(epoch), server at \(server.epoch)")
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
        for sender in members {
            for index in 0..<3 {
                let opus = Self.opusFrame(seed: sender.userID &+ UInt64(index) &+ server.epoch)
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
                }
            }
        }
        log("epoch \(server.epoch): \(members.map(\.name).joined(separator: ", ")) agree; code \(reference?.privacyCode ?? "")")
    }

    /// Returns how many peers' codes were compared.
    private func compareVerificationCodes(of member: InteropMember, state: MemberState, members: [InteropMember]) throws -> Int {
        var compared = 0
        for peer in members where peer !== member {
            guard let code = state.verificationCodes[peer.userID] else { continue }
            guard code.count == 45 else { throw InteropFailure("\(member.name) verification code is \(code.count) digits") }
            let peerState = try peer.state(verifying: [member.userID])
            guard let peerCode = peerState.verificationCodes[member.userID] else { continue }
            guard peerCode == code else { throw InteropFailure("verification codes of \(member.name) and \(peer.name) differ") }
            log("\(member.name) and \(peer.name) show the same verification code")
            compared += 1
        }
        return compared
    }

    /// A plausible 20 ms Opus packet (TOC byte + payload), deterministic per seed.
    static func opusFrame(seed: UInt64, length: Int = 80) -> [UInt8] {
        var state = seed | 1
        return [0x78] + (1..<length).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }
}
