"""Independent check of the voice transport AEAD (rtpsize modes) for DiscordVoiceTests.

Reads one JSON object on stdin: {"mode", "key" (hex), "packets" (hex, sealed by the Swift side), "payloads" (hex,
what each packet must decrypt to after stripping the extension body and RTP padding)}. Opens every packet with
PyNaCl (XChaCha20-Poly1305) or `cryptography` (AES-256-GCM), written here from the rtpsize rules alone (discord.md
section 4), then seals its own packets -- plain ones and ones with CSRCs, a header extension and RTP padding -- and
prints {"ok", "packets", "payloads"} for the Swift side to open.
"""
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl import bindings


def aead(mode, key):
    if mode == "aead_aes256_gcm_rtpsize":
        gcm = AESGCM(key)
        return (lambda n, m, a: gcm.encrypt(n + bytes(8), m, a)), (lambda n, c, a: gcm.decrypt(n + bytes(8), c, a))
    if mode == "aead_xchacha20_poly1305_rtpsize":
        def seal(n, m, a):
            return bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(m, a, n + bytes(20), key)

        def open_(n, c, a):
            return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(c, a, n + bytes(20), key)
        return seal, open_
    raise ValueError(mode)


def open_packet(open_, packet):
    b0 = packet[0]
    assert b0 >> 6 == 2 and packet[1] & 0x7F == 120, "not RTP v2 / PT 120"
    header_len = 12 + 4 * (b0 & 0x0F)
    ext_words = 0
    if b0 & 0x10:
        ext_words = struct.unpack(">H", packet[header_len + 2:header_len + 4])[0]
        header_len += 4
    nonce = packet[-4:]
    plain = open_(nonce, packet[header_len:-4], packet[:header_len])
    if b0 & 0x20:
        count = plain[-1]
        assert 0 < count < len(plain), "bad padding"
        plain = plain[:-count]
    return plain[4 * ext_words:]


def seal_packet(seal, seq, ts, ssrc, nonce, payload, csrcs=(), ext=None, padding=0):
    b0 = 0x80 | len(csrcs) | (0x10 if ext is not None else 0) | (0x20 if padding else 0)
    header = struct.pack(">BBHII", b0, 120, seq, ts, ssrc) + b"".join(struct.pack(">I", c) for c in csrcs)
    body = payload
    if ext is not None:
        header += b"\xbe\xde" + struct.pack(">H", len(ext) // 4)
        body = ext + body
    if padding:
        body += bytes(padding - 1) + bytes([padding])
    nonce_bytes = struct.pack(">I", nonce)
    return header + seal(nonce_bytes, body, header) + nonce_bytes


def main():
    request = json.loads(sys.stdin.read())
    key = bytes.fromhex(request["key"])
    seal, open_ = aead(request["mode"], key)
    for packet_hex, payload_hex in zip(request["packets"], request["payloads"]):
        got = open_packet(open_, bytes.fromhex(packet_hex))
        if got.hex() != payload_hex:
            print(json.dumps({"ok": False, "error": "payload mismatch"}))
            return
    packets, payloads = [], []
    seq, ts = struct.unpack(">HI", os.urandom(6))
    for i in range(8):
        payload = os.urandom(20 + 13 * i)
        if i % 2 == 0:
            packet = seal_packet(seal, (seq + i) & 0xFFFF, (ts + 960 * i) & 0xFFFFFFFF, 0x1234, 1000 + i, payload)
        else:
            packet = seal_packet(seal, (seq + i) & 0xFFFF, (ts + 960 * i) & 0xFFFFFFFF, 0x1234, 1000 + i, payload,
                                 csrcs=(7,) * (i % 3), ext=bytes(range(4 * i)), padding=i)
        packets.append(packet.hex())
        payloads.append(payload.hex())
    print(json.dumps({"ok": True, "opened": len(request["packets"]), "packets": packets, "payloads": payloads}))


if __name__ == "__main__":
    main()
