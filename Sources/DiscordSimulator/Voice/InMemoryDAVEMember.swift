import DAVE
import DiscordVoice

/// A DAVE client in an `InMemoryDAVECall`: it is told who is in the call (ops 11 and 13), gets every DAVE message
/// the voice server sends it, and answers with what it would send back. Our `VoiceE2EE` is one; a harness can
/// plug in other implementations (dave-interop hosts dave.py and davey members this way).
public protocol InMemoryDAVEMember: AnyObject {
    /// The member's user id (its MLS identity).
    var userID: UInt64 { get }
    /// Op 11.
    func usersConnected(_ ids: [UInt64])
    /// Op 13.
    func userDisconnected(_ id: UInt64)
    /// Session Description's `dave_protocol_version`.
    func start(protocolVersion: UInt16) throws -> [DAVEClientMessage]
    /// One DAVE op from the server (21, 22, 24 or binary 25, 27, 29, 30).
    func handle(_ event: VoiceGatewayEvent) throws -> [DAVEClientMessage]
}

extension VoiceE2EE: InMemoryDAVEMember {
    public var userID: UInt64 { session.selfUserID }
}
