import DAVE
import DiscordVoice
import FuzzSupport

// Voice gateway messages from the server: JSON text frames and `u16 seq | u8 op | payload` binary frames, the DAVE
// binary payloads they carry (ops 25, 27, 29, 30) through their parsers. Layout: [kind][message...], kind's low bit
// choosing text or binary. Every input must decode or fail with a VoiceGatewayMessageError, never trap.
FuzzDriver.run { data in
    var input = FuzzInput(data)
    let binary = input.byte() & 1 == 1
    let message = Array(input.rest())
    if binary {
        guard let decoded = try? VoiceGatewayCodec.decode(binary: message) else { return }
        precondition(decoded.seq.map { (0...0xFFFF).contains($0) } ?? false, "binary seq is a u16")
        guard case .daveBinary(let op, let payload)? = decoded.event else { return }
        switch op {
        case 25: _ = try? DAVEExternalSenderPackage(payload: payload)
        case 27: _ = try? DAVEProposalsPayload(payload: payload)
        case 29: _ = try? DAVEAnnounceCommit(payload: payload)
        case 30: _ = try? DAVEWelcomePayload(payload: payload)
        default: preconditionFailure("daveBinary for op \(op)")
        }
    } else {
        _ = try? VoiceGatewayCodec.decode(text: message)
    }
}
