import Crypto
import DAVE
import Foundation
import FuzzSupport
import Realtime

// The DAVE frame decryptor (one remote sender's media frames): trailer parsing, generation unwrapping, the replay
// window, ratchet transitions and expiry, passthrough. The input is a script; besides raw frames it asks for frames
// sealed under one of two fixed sender ratchets with a nonce it chooses (so authentication passes and the window
// logic is reached), for transitions, passthrough changes and time. A frame that decrypts must give back exactly
// the plaintext it was sealed from.
let baseSecrets: [[UInt8]] = [Array(repeating: 0x11, count: 16), Array(repeating: 0x22, count: 16)]
// Sender-side keys per (secret, generation), derived once: ratchets erase keys as they hand them out.
nonisolated(unsafe) var keyCache: [Int: SymmetricKey] = [:]  // libFuzzer runs inputs on one thread

func key(secret: Int, generation: UInt32) -> SymmetricKey? {
    let slot = secret << 8 | Int(generation)
    if let cached = keyCache[slot] { return cached }
    guard let raw = SenderKeyRatchet(baseSecret: baseSecrets[secret]).key(forGeneration: generation) else { return nil }
    keyCache[slot] = SymmetricKey(data: raw)
    return keyCache[slot]
}

/// `ciphertext ‖ tag[0..<8] ‖ ULEB128(nonce) ‖ ranges ‖ size ‖ FA FA`, as a DAVE sender writes it (dave.md §5).
func seal(_ plaintext: [UInt8], secret: Int, nonce: UInt32, ranges: [UInt8]) -> [UInt8]? {
    guard let key = key(secret: secret, generation: nonce >> 24) else { return nil }
    var nonceBytes = [UInt8](repeating: 0, count: 12)
    for k in 0..<4 { nonceBytes[8 + k] = UInt8(truncatingIfNeeded: nonce >> (8 * UInt32(k))) }
    guard let gcmNonce = try? AES.GCM.Nonce(data: nonceBytes),
        let box = try? AES.GCM.seal(plaintext, using: key, nonce: gcmNonce)
    else { return nil }
    var trailer = Array(box.tag.prefix(8))
    var rest = nonce
    repeat {
        let low = UInt8(rest & 0x7F)
        rest >>= 7
        trailer.append(rest == 0 ? low : low | 0x80)
    } while rest != 0
    trailer += ranges
    guard trailer.count + 3 <= 255 else { return nil }
    return Array(box.ciphertext) + trailer + [UInt8(trailer.count + 3), 0xFA, 0xFA]
}

FuzzDriver.run { data in
    var input = FuzzInput(data)
    let clock = ManualClock()
    let decryptor = FrameDecryptor(clock: clock)
    let encryptor = FrameEncryptor()
    var output: [UInt8] = []
    var steps = 0
    while !input.isAtEnd && steps < 256 {
        steps += 1
        switch input.byte() % 8 {
        case 0:
            _ = try? decryptor.decrypt(frame: input.record(), into: &output)
        case 1, 2:
            let secret = Int(input.byte() & 1)
            let nonce = UInt32(input.byte()) << 24 | UInt32(input.byte()) << 16 | UInt32(input.u16())
            let withRanges = input.byte() & 0x80 != 0
            let plaintext = input.record()
            let ranges: [UInt8] = withRanges ? [0, UInt8(min(plaintext.count, 0x7F))] : []
            guard let frame = seal(plaintext, secret: secret, nonce: nonce, ranges: ranges) else { continue }
            if (try? decryptor.decrypt(frame: frame, into: &output)) != nil {
                precondition(!withRanges, "a frame with unencrypted ranges was accepted")
                precondition(output == plaintext, "decrypted frame differs from its plaintext")
            }
        case 3:
            let secret = Int(input.byte() & 1)
            decryptor.transition(
                to: SenderKeyRatchet(baseSecret: baseSecrets[secret]), expirySeconds: Double(input.byte()))
            encryptor.setRatchet(SenderKeyRatchet(baseSecret: baseSecrets[secret]))
        case 4:
            decryptor.retire(expirySeconds: Double(input.byte()))
        case 5:
            decryptor.setPassthrough(input.byte() & 1 == 1, expirySeconds: Double(input.byte()))
        case 6:
            let scale = Double(input.byte())
            clock.advance(seconds: scale * scale * 10)
        default:
            // Our own encryptor's frames, in order: they must decrypt while its ratchet is the decryptor's newest.
            let plaintext = input.record()
            guard let frame = try? encryptor.encrypt(opus: plaintext) else { continue }
            if (try? decryptor.decrypt(frame: frame, into: &output)) != nil {
                precondition(output == plaintext, "our own frame decrypted to different bytes")
            }
        }
    }
}
