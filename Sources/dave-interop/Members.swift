import DAVE
import DiscordSimulator
import DiscordVoice
import Foundation

/// The member state compared across implementations.
struct MemberState {
    let epoch: UInt64?
    let authenticator: [UInt8]
    let privacyCode: String
    let verificationCodes: [UInt64: String]
}

/// A DAVE client in the interop call: driven by the simulator's voice server role through `InMemoryDAVECall`
/// (`InMemoryDAVEMember`), and inspected and made to encrypt/decrypt frames by `Checks`.
protocol InteropMember: InMemoryDAVEMember {
    var name: String { get }
    func state(verifying peers: [UInt64]) throws -> MemberState
    func encrypt(_ frame: [UInt8]) throws -> [UInt8]
    func decrypt(sender: UInt64, _ frame: [UInt8]) throws -> [UInt8]?
    /// Whether `state(verifying:)` computes verification codes itself (the side compared against peers).
    var computesVerificationCodes: Bool { get }
    /// Whether `state` reports the MLS epoch (dave.py 1.1.0 has no accessor for it).
    var exposesEpoch: Bool { get }
}

/// A dave.py (libdave) or davey member living in the Python driver; each DAVE op becomes one driver request.
final class PythonMember: InteropMember {
    let name: String
    let userID: UInt64
    let computesVerificationCodes = false
    let exposesEpoch: Bool
    private let driver: PythonDriver
    /// Users the voice gateway announced (ops 11/13), and ourselves: the recognised set libdave checks Adds against.
    private var recognized: Set<UInt64>

    init(kind: String, name: String, userID: UInt64, channelID: UInt64, driver: PythonDriver) throws {
        self.name = name
        self.userID = userID
        self.driver = driver
        recognized = [userID]
        exposesEpoch = kind == "davey"
        _ = try driver.call([
            "cmd": "new", "member": name, "kind": kind, "user_id": String(userID),
            "channel_id": String(channelID),
        ])
    }

    private func call(_ command: String, _ payload: [UInt8] = [], extra: [String: Any] = [:]) throws -> [String: Any] {
        var request: [String: Any] = ["cmd": command, "member": name, "payload": Hex.encode(payload)]
        request.merge(extra) { $1 }
        return try driver.call(request)
    }

    private func payload(_ reply: [String: Any]) throws -> [UInt8]? {
        guard let text = reply["payload"] as? String else { return nil }
        return try Hex.decode(text)
    }

    private var recognizedIDs: [String] { recognized.sorted().map(String.init) }

    func usersConnected(_ ids: [UInt64]) { recognized.formUnion(ids) }

    func userDisconnected(_ id: UInt64) { recognized.remove(id) }

    /// The session starts on op 25 (the driver's members are created with protocol version 1).
    func start(protocolVersion: UInt16) throws -> [DAVEClientMessage] {
        guard protocolVersion == 1 else { throw InteropFailure("\(name): the driver runs protocol version 1 only") }
        return []
    }

    func handle(_ event: VoiceGatewayEvent) throws -> [DAVEClientMessage] {
        switch event {
        case .daveBinary(opcode: 25, let payload):
            _ = try call("external_sender", payload)
            return try [.keyPackage(keyPackage(call("key_package")))]
        case .daveBinary(opcode: 27, let payload):
            let reply = try call("proposals", payload, extra: ["recognized": recognizedIDs])
            return try self.payload(reply).map { [.commitWelcome($0)] } ?? []
        case .daveBinary(opcode: 29, let payload):
            return try transition(payload, reply: call("commit", payload))
        case .daveBinary(opcode: 30, let payload):
            return try transition(payload, reply: call("welcome", payload, extra: ["recognized": recognizedIDs]))
        case .daveExecuteTransition:
            _ = try call("execute")
            return []
        default:
            // The interop scenarios never downgrade or reset; the driver implements only the ops above.
            throw InteropFailure("\(name): the Python driver does not handle \(event)")
        }
    }

    private func keyPackage(_ reply: [String: Any]) throws -> [UInt8] {
        guard let keyPackage = try payload(reply) else { throw InteropFailure("\(name): no key package") }
        return keyPackage
    }

    /// Op 23 when the member took the commit or Welcome, else op 31 and the new op 26 it re-initialised with.
    private func transition(_ payload: [UInt8], reply: [String: Any]) throws -> [DAVEClientMessage] {
        guard payload.count >= 2 else { throw InteropFailure("\(name): op 29/30 without a transition id") }
        let id = UInt16(payload[0]) << 8 | UInt16(payload[1])
        switch reply["outcome"] as? String {
        case "ready": return [.readyForTransition(transitionID: id)]
        case "invalid": return [.invalidCommitWelcome(transitionID: id), .keyPackage(try keyPackage(reply))]
        default: throw InteropFailure("\(name): unexpected outcome \(reply["outcome"] ?? "none")")
        }
    }

    func state(verifying peers: [UInt64]) throws -> MemberState {
        let reply = try call("state", extra: ["peers": peers.map(String.init)])
        var codes: [UInt64: String] = [:]
        for (key, value) in reply["verification"] as? [String: String] ?? [:] { codes[UInt64(key) ?? 0] = value }
        return MemberState(
            epoch: (reply["epoch"] as? NSNumber)?.uint64Value,
            authenticator: try Hex.decode(reply["authenticator"] as? String ?? ""),
            privacyCode: reply["privacy_code"] as? String ?? "", verificationCodes: codes)
    }

    func encrypt(_ frame: [UInt8]) throws -> [UInt8] {
        guard let encrypted = try payload(call("encrypt", frame)) else {
            throw InteropFailure("\(name): encrypt failed")
        }
        return encrypted
    }

    func decrypt(sender: UInt64, _ frame: [UInt8]) throws -> [UInt8]? {
        try payload(call("decrypt", frame, extra: ["sender": String(sender)]))
    }
}
