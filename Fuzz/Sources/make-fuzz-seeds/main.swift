import DAVE
import Foundation
import FuzzSupport  // linked for LLVMFuzzerTestOneInput only
import MLS

// Writes the MLS and DAVE seed inputs that need real keys and signatures (Fuzz/corpus/fuzz-mls, fuzz-dave-gateway):
// a key package, signed external Add and Remove proposals, a commit with its Welcome, a ratchet tree, the op 25-30
// payloads. Run once by scripts/fuzz.sh --seeds; the files are committed, so fuzz runs do not depend on it.
let root = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Fuzz/corpus"

func write(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
    let dir = URL(fileURLWithPath: root).appendingPathComponent(target)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data(bytes).write(to: dir.appendingPathComponent(name))
}

/// A fuzz-dave-gateway raw-op step: action 13 (raw payload), target session, op selector, u16 length, payload.
func rawOp(_ selector: UInt8, _ payload: [UInt8], target: UInt8 = 0) -> [UInt8] {
    [13, target, selector, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
}

let channelID: UInt64 = 927_310_423_890_473_011
let role = try DAVEExternalSenderRole(channelID: channelID)
let alice = DAVESession(selfUserID: 1, channelID: channelID)
let bob = DAVESession(selfUserID: 2, channelID: channelID)
alice.addRecognizedUsers([2])
bob.addRecognizedUsers([1])
var keyPackages: [UInt64: [UInt8]] = [:]
for session in [alice, bob] {
    let sent = try session.handleSelectProtocol(version: 1) + session.handleExternalSender(role.package.encoded)
    guard case .keyPackage(let bytes)? = sent.first else { fatalError("no key package") }
    keyPackages[session.selfUserID] = bytes
}
let add = try role.add(keyPackagePayload: keyPackages[2]!, epoch: 0)
let remove = try role.remove(leafIndex: 1, epoch: 1)
let proposals = DAVEProposalsPayload.append([add.message]).encoded
guard case .commitWelcome(let commitWelcomeBytes)? = try alice.handleProposals(proposals).first else {
    fatalError("no commit")
}
let commitWelcome = try DAVECommitWelcome(payload: commitWelcomeBytes)
let announce = DAVEAnnounceCommit(transitionID: 1, commit: commitWelcome.commit).encoded
let welcome = DAVEWelcomePayload(transitionID: 1, welcome: commitWelcome.welcome!).encoded
let keyPackage = try KeyPackage(tlsEncoded: keyPackages[1]!)
var tree = RatchetTree(firstLeaf: keyPackage.leafNode)
tree.addLeaf(try KeyPackage(tlsEncoded: keyPackages[2]!).leafNode)
tree.addLeaf(try KeyPackage(tlsEncoded: keyPackages[1]!).leafNode)

// fuzz-mls: [selector][bytes]; selectors as in Fuzz/Sources/fuzz-mls/main.swift.
try write("fuzz-mls", "keypackage-message", [0] + MLSMessage.keyPackage(keyPackage).tlsEncoded)
try write("fuzz-mls", "keypackage", [1] + keyPackages[1]!)
try write("fuzz-mls", "welcome", [2] + commitWelcome.welcome!.tlsEncoded)
if case .publicMessage(let message) = commitWelcome.commit, case .commit(let commit) = message.content.body {
    try write("fuzz-mls", "commit", [3] + commit.tlsEncoded)
}
try write("fuzz-mls", "commit-message", [0] + commitWelcome.commit.tlsEncoded)
try write("fuzz-mls", "ratchet-tree", [4] + tree.extensionData)
try write("fuzz-mls", "proposals", [5] + add.message.tlsEncoded + remove.message.tlsEncoded)
try write(
    "fuzz-mls", "external-senders",
    [6]
        + ExternalSender.extensionFor([
            ExternalSender(
                signatureKey: role.package.signatureKey, credential: .basic(role.package.identity))
        ]).data)

// fuzz-dave-gateway: the honest flow (select protocol, op 25, add bob, relay commit and Welcome, execute, media)
// and the same payloads sent raw.
let honest: [UInt8] = [
    0, 0, 1, 0, 1, 1, 0, 1, 2, 0, 0, 3, 0, 1, 4, 0, 1, 6, 0, 0, 0, 4, 1, 2, 3, 4, 6, 1, 0, 0, 3,
    0xF8, 0xFF, 0xFE, 12, 0, 200, 5, 0, 1, 1, 3, 0, 2,
]
try write("fuzz-dave-gateway", "honest-flow", honest)
try write(
    "fuzz-dave-gateway", "raw-payloads",
    [0, 0, 1] + rawOp(0, role.package.encoded) + rawOp(1, proposals) + rawOp(2, announce)
        + rawOp(3, welcome, target: 1) + rawOp(1, DAVEProposalsPayload.revoke([add.reference]).encoded))
try write(
    "fuzz-dave-gateway", "transitions",
    [
        0, 0, 1, 7, 0, 0, 0, 0, 5, 8, 0, 0, 5, 9, 1, 0, 1, 0, 0, 1, 10, 0, 3,
        11, 0, 3, 12, 1, 255,
    ])
print("seeds written under \(root)")
