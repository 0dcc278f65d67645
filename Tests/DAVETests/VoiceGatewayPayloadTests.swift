import MLS
import XCTest

@testable import DAVE

/// Real op 25 / op 27 payloads captured by davey (`davey-node/test/session.test.ts`): channel 927310423890473011,
/// a proposal adding user 158533742254751744, and the revoke of that same proposal.
final class VoiceGatewayPayloadTests: XCTestCase {
    static let externalSender = TestSupport.bytes(
        hex:
            "404104ca1a2b102501d0672bd45ed74ffb83e078b2ba5b12c3f69fad56f083b6a35fc989c6736b5852b5aecdfcdf206e156d3d1dba8e3e"
            + "5b2f89fc0c16f11614e84e4a00010100")
    static let appendBody = TestSupport.bytes(
        hex:
            "41f000010001080cde77eadc823033000000000000000002000000000002000100010002404104a61acd34ff0548e6f767cc4df9619b51"
            + "ba5814d52ee558284fc554405768e9e741ba32276414941b7c0190dcb5dfc3349a168f1247ecbdf6fc69f3eecab3765d404104f44da24e"
            + "5aa9f73796fa38be115556e6b7d4f6ba55d2ecc3f1b9d198af6237e3fc8fc635996b6c76e77b4acace33f5cfd745ad0d540dd6f03f0da8"
            + "5c82e14714404104e7793985ed074af49568b53cf2e3974688279f02ee8d7c7df099ce3c7a1a28e747f59a7c7c23e9ef4f7815fb3469f3"
            + "9ea124f8b76712c41b763a55b867e6b48b00010802333999400200000200010200020000020001010000000000000000ffffffffffffff"
            + "ff0040483046022100d874dc777d4ede7e6d3374f737bc1394ac0ffd0635abdc9d02b3e359e059466a022100e62e97aefd5c6b32ff0ac5"
            + "c5159dbe94f6f5a01bd0dd14a9dcc4d1e6248972ac004047304502205168abdf8d83a48daf8d5960afb305022de707c7496087feb43004"
            + "c9fd2be5e80221008312a6f6df1ff593671a39f9966f6d1caef43e0c6d53c74300ba089ceeecfbf440473045022100cdbe804ba06a9be1"
            + "7615fe3c7f9055f31a6d0ea9402dd9fda6d109e9a3cb632b022067409e59f6b7f0a3eddd330a092a6c13d99d12abaebe0d6d40a0dae435"
            + "c2a7a2")
    static let revokeBody = TestSupport.bytes(
        hex:
            "212062386ffb20b28f556b2465c0a2520ba2b074fca00e94b2fdebc0496d544cd6c0")

    func testDiscordExternalSender() throws {
        let package = try DAVEExternalSenderPackage(payload: Self.externalSender)
        XCTAssertEqual(package.signatureKey.count, 65)
        XCTAssertEqual(package.signatureKey.first, 0x04)
        XCTAssertEqual(package.identity, [0x00])
        XCTAssertEqual(
            DAVEExternalSenderPackage(signatureKey: package.signatureKey, identity: [0]).encoded,
            Self.externalSender)
    }

    func testCapturedAppendAndRevokeReferToTheSameProposal() throws {
        guard case .append(let messages) = try DAVEProposalsPayload(payload: [0] + Self.appendBody) else {
            return XCTFail("expected append")
        }
        XCTAssertEqual(messages.count, 1)
        guard case .publicMessage(let message) = messages[0] else { return XCTFail("expected PublicMessage") }
        XCTAssertEqual(message.content.groupID, DAVEGroupID.bytes(channelID: 927_310_423_890_473_011))
        XCTAssertEqual(message.content.epoch, 0)
        XCTAssertEqual(message.content.sender, .external(senderIndex: 0))
        guard case .proposal(.add(let keyPackage)) = message.content.body else { return XCTFail("expected Add") }
        XCTAssertEqual(keyPackage.leafNode.credential.userID, 158_533_742_254_751_744)
        let sender = try DAVEExternalSenderPackage(payload: Self.externalSender)
        XCTAssertTrue(message.authenticatedContent.verifySignature(publicKey: sender.signatureKey, groupContext: nil))

        guard case .revoke(let refs) = try DAVEProposalsPayload(payload: [1] + Self.revokeBody) else {
            return XCTFail("expected revoke")
        }
        XCTAssertEqual(refs, [message.authenticatedContent.proposalReference])
        XCTAssertEqual(DAVEProposalsPayload.revoke(refs).encoded, [1] + Self.revokeBody)
        XCTAssertEqual(DAVEProposalsPayload.append(messages).encoded, [0] + Self.appendBody)
    }

    func testOurExternalProposalsVerifyAndReference() throws {
        let role = try DAVEExternalSenderRole(channelID: 927_310_423_890_473_011)
        let bundle = try KeyPackageBundle.create(userID: 42)
        let signed = try role.add(keyPackagePayload: bundle.keyPackage.tlsEncoded, epoch: 0)
        guard case .publicMessage(let message) = signed.message else { return XCTFail("expected PublicMessage") }
        XCTAssertTrue(
            message.authenticatedContent.verifySignature(publicKey: role.package.signatureKey, groupContext: nil))
        XCTAssertEqual(signed.reference, message.authenticatedContent.proposalReference)
        XCTAssertEqual(try DAVEExternalSenderPackage(payload: role.package.encoded), role.package)
    }

    func testMalformedPayloadsThrowTypedErrors() {
        let cases: [[UInt8]] = [[], [0], [0, 0x05, 1, 2], [2, 0], [1, 0x02, 0x05], [0] + Self.appendBody.dropLast()]
        for payload in cases {
            XCTAssertThrowsError(try DAVEProposalsPayload(payload: payload)) { XCTAssertTrue($0 is DAVEPayloadError) }
        }
        XCTAssertThrowsError(try DAVEExternalSenderPackage(payload: [0x40, 0x41])) {
            XCTAssertTrue($0 is DAVEPayloadError)
        }
        XCTAssertThrowsError(try DAVEExternalSenderPackage(payload: Self.externalSender + [0]))
        XCTAssertThrowsError(try DAVEAnnounceCommit(payload: [0x00])) { XCTAssertTrue($0 is DAVEPayloadError) }
        XCTAssertThrowsError(try DAVEWelcomePayload(payload: [0x00, 0x01, 0x00])) {
            XCTAssertTrue($0 is DAVEPayloadError)
        }
        XCTAssertThrowsError(try DAVECommitWelcome(payload: [0xFF])) { XCTAssertTrue($0 is DAVEPayloadError) }
        XCTAssertThrowsError(try DAVEExternalSenderRole(channelID: 1).add(keyPackagePayload: [1, 2, 3], epoch: 0))
    }

    func testGroupIDIsChannelBigEndian() {
        XCTAssertEqual(TestSupport.hex(DAVEGroupID.bytes(channelID: 927_310_423_890_473_011)), "0cde77eadc823033")
    }
}
