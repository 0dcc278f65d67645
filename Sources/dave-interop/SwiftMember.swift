import DAVE
import DiscordSimulator
import DiscordVoice
import Realtime

/// Our member: the `VoiceE2EE` a `VoiceConnection` runs, driven by the same DAVE ops.
final class SwiftMember: InteropMember {
    let name = "swift"
    let computesVerificationCodes = true
    let exposesEpoch = true
    let e2ee: VoiceE2EE

    init(userID: UInt64, channelID: UInt64) {
        e2ee = VoiceE2EE(selfUserID: userID, channelID: channelID, clock: SystemClock.shared)
    }

    var userID: UInt64 { e2ee.userID }
    private var session: DAVESession { e2ee.session }

    func usersConnected(_ ids: [UInt64]) { e2ee.usersConnected(ids) }
    func userDisconnected(_ id: UInt64) { e2ee.userDisconnected(id) }
    func start(protocolVersion: UInt16) throws -> [DAVEClientMessage] {
        try e2ee.start(protocolVersion: protocolVersion)
    }
    func handle(_ event: VoiceGatewayEvent) throws -> [DAVEClientMessage] { try e2ee.handle(event) }

    func state(verifying peers: [UInt64]) throws -> MemberState {
        var codes: [UInt64: String] = [:]
        for peer in peers { codes[peer] = try session.verificationCode(for: peer) }
        return MemberState(
            epoch: session.epoch, authenticator: session.epochAuthenticator ?? [],
            privacyCode: session.privacyCode ?? "", verificationCodes: codes)
    }

    func encrypt(_ frame: [UInt8]) throws -> [UInt8] { try session.encrypt(opus: frame) }

    func decrypt(sender: UInt64, _ frame: [UInt8]) throws -> [UInt8]? {
        try? session.decrypt(userID: sender, frame: frame)
    }
}
