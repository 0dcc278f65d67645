import FuzzSupport

@testable import DiscordVoice

// The voice UDP receive path: RTP/RTCP classification, rtpsize decryption in both AEAD modes under a fixed key,
// padding and header-extension stripping, and IP discovery replies. The input is a script; besides raw datagrams
// it asks for packets sealed with the fixed key around a header it chooses (padding, extension, CSRCs, payload
// type, SSRC), so authentication passes and the post-decryption checks are reached. A packet accepted as audio
// must hand back exactly the frame that was sealed.
let key = [UInt8](repeating: 0x5A, count: 32)
let modes = TransportMode.allCases
let openers = modes.map { VoicePacketOpener(cipher: try! TransportCipher(mode: $0, key: key)) }
let sealers = modes.map { try! TransportCipher(mode: $0, key: key, forceSwiftCrypto: true) }
let known: Set<UInt32> = [1, 0x1234_5678]
var packet = [UInt8](repeating: 0, count: 4096)

FuzzDriver.run { data in
    var input = FuzzInput(data)
    var steps = 0
    while !input.isAtEnd && steps < 64 {
        steps += 1
        let action = input.byte()
        let index = Int(action >> 7)
        let opener = openers[index]
        switch action % 4 {
        case 0:
            let datagram = input.record()
            _ = datagram.withUnsafeBytes { opener.open($0, isKnown: known.contains) }
        case 1:
            let reply = input.record()
            _ = try? IPDiscovery.parse(response: reply)
        default:
            // [flags][payload type][ssrc selector][csrc count][extension words][padding][frame record]
            let flags = input.byte()
            let payloadType = flags & 1 == 0 ? RTPHeader.opusPayloadType : input.byte() & 0x7F
            let ssrc: UInt32 = input.byte() & 1 == 0 ? 0x1234_5678 : UInt32(input.u16())
            let csrcs = Int(input.byte() & 0x0F)
            let hasExtension = flags & 2 != 0
            let extensionWords = hasExtension ? Int(input.byte() % 8) : 0
            let padding = flags & 4 != 0 ? Int(input.byte()) : 0
            let frame = input.record()
            var header: [UInt8] = [
                0x80 | (padding > 0 ? 0x20 : 0) | (hasExtension ? 0x10 : 0) | UInt8(csrcs),
                payloadType, 0, 1, 0, 0, 3, 0xC0,
            ]
            for shift in stride(from: 24, through: 0, by: -8) {
                header.append(UInt8(truncatingIfNeeded: ssrc >> UInt32(shift)))
            }
            header += [UInt8](repeating: 7, count: 4 * csrcs)
            if hasExtension { header += [0xBE, 0xDE, 0, UInt8(extensionWords)] }
            // The extension body and the padding are inside the encrypted part, as Discord sends them.
            var plaintext = [UInt8](repeating: 0xEE, count: 4 * extensionWords) + frame
            if padding > 0 { plaintext += [UInt8](repeating: 0, count: padding - 1) + [UInt8(padding)] }
            let total = header.count + plaintext.count + TransportMode.trailerLength
            guard total <= packet.count else { continue }
            let nonce = UInt32(steps)
            let sealed: Bool = packet.withUnsafeMutableBytes { out in
                header.withUnsafeBytes { h in out.baseAddress!.copyMemory(from: h.baseAddress!, byteCount: h.count) }
                let tagAt = header.count + plaintext.count
                do {
                    try plaintext.withUnsafeBytes { p in
                        try sealers[index].seal(
                            plaintext: p, aad: UnsafeRawBufferPointer(rebasing: out[0..<header.count]), nonce: nonce,
                            ciphertext: UnsafeMutableRawBufferPointer(rebasing: out[header.count..<tagAt]),
                            tag: UnsafeMutableRawBufferPointer(rebasing: out[tagAt..<(tagAt + TransportMode.tagLength)])
                        )
                    }
                } catch { return false }
                RTPHeader.put(nonce, out, tagAt + TransportMode.tagLength)
                return true
            }
            guard sealed else { continue }
            let kind = packet.withUnsafeBytes {
                opener.open(UnsafeRawBufferPointer(rebasing: $0[0..<total]), isKnown: known.contains)
            }
            if kind == .audio {
                precondition(payloadType == RTPHeader.opusPayloadType && known.contains(ssrc), "wrong packet accepted")
                precondition(Array(opener.payload) == frame, "the opened frame differs from the sealed one")
            }
        }
    }
}
