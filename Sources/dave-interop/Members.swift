import Foundation

/// What a member answered to op 29 / op 30.
enum TransitionOutcome: Equatable {
    /// Processed; will acknowledge with op 23.
    case ready
    /// Answered op 31 and re-initialised with this new op 26 key package.
    case invalid(newKeyPackage: [UInt8])
}

/// The member state compared across implementations.
struct MemberState {
    let epoch: UInt64?
    let authenticator: [UInt8]
    let privacyCode: String
    let verificationCodes: [UInt64: String]
}

/// A DAVE client the harness (voice server) talks to: our Swift session or a Python-hosted peer.
protocol InteropMember: AnyObject {
    var name: String { get }
    var userID: UInt64 { get }
    func start(externalSender: [UInt8], recognized: [UInt64]) throws -> [UInt8]
    func proposals(_ payload: [UInt8], recognized: [UInt64]) throws -> [UInt8]?
    func announceCommit(_ payload: [UInt8]) throws -> TransitionOutcome
    func welcome(_ payload: [UInt8], recognized: [UInt64]) throws -> TransitionOutcome
    func execute(transitionID: UInt16) throws
    func state(verifying peers: [UInt64]) throws -> MemberState
    func encrypt(_ frame: [UInt8]) throws -> [UInt8]
    func decrypt(sender: UInt64, _ frame: [UInt8]) throws -> [UInt8]?
    /// Whether `state(verifying:)` computes verification codes itself (the side compared against peers).
    var computesVerificationCodes: Bool { get }
    /// Whether `state` reports the MLS epoch (dave.py 1.1.0 has no accessor for it).
    var exposesEpoch: Bool { get }
}

/// A dave.py (libdave) or davey member living in the Python driver.
final class PythonMember: InteropMember {
    let name: String
    let userID: UInt64
    let computesVerificationCodes = false
    let exposesEpoch: Bool
    private let driver: PythonDriver

    init(kind: String, name: String, userID: UInt64, channelID: UInt64, driver: PythonDriver) throws {
        self.name = name
        self.userID = userID
        self.driver = driver
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

    func start(externalSender: [UInt8], recognized: [UInt64]) throws -> [UInt8] {
        _ = try call("external_sender", externalSender)
        guard let keyPackage = try payload(call("key_package")) else { throw InteropFailure("\(name): no key package") }
        return keyPackage
    }

    func proposals(_ payload: [UInt8], recognized: [UInt64]) throws -> [UInt8]? {
        try self.payload(call("proposals", payload, extra: ["recognized": recognized.map(String.init)]))
    }

    func announceCommit(_ payload: [UInt8]) throws -> TransitionOutcome { try outcome(call("commit", payload)) }

    func welcome(_ payload: [UInt8], recognized: [UInt64]) throws -> TransitionOutcome {
        try outcome(call("welcome", payload, extra: ["recognized": recognized.map(String.init)]))
    }

    private func outcome(_ reply: [String: Any]) throws -> TransitionOutcome {
        switch reply["outcome"] as? String {
        case "ready": return .ready
        case "invalid":
            guard let keyPackage = try payload(reply) else { throw InteropFailure("\(name): op 31 without op 26") }
            return .invalid(newKeyPackage: keyPackage)
        default: throw InteropFailure("\(name): unexpected outcome \(reply["outcome"] ?? "none")")
        }
    }

    func execute(transitionID: UInt16) throws { _ = try call("execute") }

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
