"""A voice client whose DAVE member is dave.py (Discord's libdave), against the simulator's voice server.

Environment: VOICE_ENDPOINT (host:port), VOICE_USER_ID, VOICE_SESSION_ID, VOICE_TOKEN, VOICE_SERVER_ID (guild),
VOICE_CHANNEL_ID, PEER_PARTNER_ID (the Swift VoiceConnection's user id), PEER_FRAMES (frames each way).

Written from the protocol notes (../shared/reference/discord.md section 3-4, dave.md section 3-4), independently of
the Swift code: voice gateway v8 over aiohttp (Identify with max_dave_protocol_version 1, heartbeats with seq_ack,
binary DAVE frames), IP discovery and XChaCha20-Poly1305 rtpsize transport (PyNaCl, Tests/interop/voice_transport.py),
and a libdave member (Tests/interop/driver.py's LibdaveMember: the ops 25-31 flow). Once its group holds the partner
it prints `READY {json}`, sends PEER_FRAMES Opus frames DAVE-encrypted by libdave on 20 ms deadlines, collects the
partner's packets, decrypts them with libdave and ends with `RESULT {json}`.
"""
import asyncio
import hashlib
import json
import os
import struct
import sys
import time

import aiohttp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import driver  # noqa: E402  (LibdaveMember: dave.py's session, encryptor and decryptors)
import voice_transport  # noqa: E402

MODE = "aead_xchacha20_poly1305_rtpsize"
SILENCE = b"\xf8\xff\xfe"


def frame(index: int) -> bytes:
    body = hashlib.sha256(b"libdave frame %d" % index).digest()
    return b"\xfc" + (body + body)[: 30 + index % 33]


class Udp(asyncio.DatagramProtocol):
    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.queue.put_nowait(data)


class Client:
    def __init__(self):
        self.user_id = int(os.environ["VOICE_USER_ID"])
        self.channel_id = int(os.environ["VOICE_CHANNEL_ID"])
        self.partner = int(os.environ["PEER_PARTNER_ID"])
        self.recognized = {self.user_id}
        self.seq_ack = -1
        self.member = None
        self.ssrc = 0
        self.key = b""
        self.executed = asyncio.Event()
        self.ws = None

    async def send_json(self, op, d):
        await self.ws.send_str(json.dumps({"op": op, "d": d}))

    async def send_binary(self, op, payload):
        await self.ws.send_bytes(bytes([op]) + bytes(payload))

    async def heartbeat(self, interval):
        while True:
            await asyncio.sleep(interval)
            await self.send_json(3, {"t": int(time.time() * 1000), "seq_ack": self.seq_ack})

    async def transition_reply(self, transition_id, outcome):
        if outcome == "ready":
            if transition_id != 0:
                await self.send_json(23, {"transition_id": transition_id})
            return
        await self.send_json(31, {"transition_id": transition_id})
        self.member.reinit()
        await self.send_binary(26, self.member.key_package())

    async def on_binary(self, data):
        self.seq_ack = struct.unpack(">H", data[:2])[0]
        op, payload = data[2], data[3:]
        if op == 25:
            self.member.set_external_sender(payload)
            await self.send_binary(26, self.member.key_package())
        elif op == 27:
            result = self.member.proposals(payload, self.recognized)
            if result is not None:
                await self.send_binary(28, result)
        elif op in (29, 30):
            transition_id = struct.unpack(">H", payload[:2])[0]
            try:
                if op == 29:
                    outcome = self.member.commit(payload[2:])
                else:
                    outcome = self.member.welcome(payload[2:], self.recognized)
            except Exception as error:  # libdave refused it: answer op 31
                sys.stderr.write(f"dave_voice_peer: op {op} refused: {error}\n")
                outcome = "invalid"
            if outcome != "ignored":
                await self.transition_reply(transition_id, outcome)

    async def on_json(self, message, udp, loop):
        op, d = message["op"], message.get("d")
        if "seq" in message:
            self.seq_ack = message["seq"]
        if op == 8:
            asyncio.ensure_future(self.heartbeat(d["heartbeat_interval"] / 1000))
        elif op == 2:
            self.ssrc = d["ssrc"]
            self.server_address = (d["ip"], d["port"])
            request = struct.pack(">HHI", 1, 70, self.ssrc) + bytes(66)
            udp.transport.sendto(request, self.server_address)
            reply = await asyncio.wait_for(udp.queue.get(), 10)
            assert len(reply) == 74 and reply[1] == 2, "bad IP discovery reply"
            address = reply[8:72].split(b"\0", 1)[0].decode()
            port = struct.unpack(">H", reply[72:74])[0]
            await self.send_json(1, {"protocol": "udp", "data": {"address": address, "port": port, "mode": MODE}})
        elif op == 4:
            self.key = bytes(d["secret_key"])
            if d.get("dave_protocol_version", 0) > 0:
                self.member = driver.LibdaveMember(self.user_id, self.channel_id)
        elif op == 11:
            self.recognized.update(int(u) for u in d["user_ids"])
        elif op == 13:
            self.recognized.discard(int(d["user_id"]))
        elif op == 22 and self.member is not None:
            self.member.execute()
            if self.partner in self.member.roster:
                self.executed.set()
        elif op == 24 and d.get("epoch") == 1 and self.member is not None:
            self.member.reinit()
            await self.send_binary(26, self.member.key_package())

    async def run(self, result):
        loop = asyncio.get_running_loop()
        _, udp = await loop.create_datagram_endpoint(Udp, local_addr=("127.0.0.1", 0))
        endpoint = os.environ["VOICE_ENDPOINT"]
        async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://{endpoint}/?v=8") as ws:
            self.ws = ws
            await self.send_json(0, {
                "server_id": os.environ["VOICE_SERVER_ID"], "user_id": str(self.user_id),
                "session_id": os.environ["VOICE_SESSION_ID"], "token": os.environ["VOICE_TOKEN"],
                "max_dave_protocol_version": 1,
            })

            async def reader():
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        await self.on_json(json.loads(message.data), udp, loop)
                    elif message.type == aiohttp.WSMsgType.BINARY:
                        await self.on_binary(message.data)
                result["closed"] = ws.close_code

            reading = asyncio.ensure_future(reader())
            await asyncio.wait_for(self.executed.wait(), 30)
            state = self.member.state()
            result.update(user_id=str(self.user_id), privacy_code=state["privacy_code"], mode=MODE)
            print("READY " + json.dumps(result), flush=True)
            await self.exchange(udp, result)
            reading.cancel()

    async def exchange(self, udp, result):
        count = int(os.environ.get("PEER_FRAMES", "100"))
        await self.send_json(5, {"speaking": 1, "delay": 0, "ssrc": self.ssrc})
        await asyncio.sleep(0.2)  # op 5 (our SSRC) reaches the partner before the first packet
        seal, open_ = voice_transport.aead(MODE, self.key)
        sent, packets = [], []
        start = time.monotonic()
        for index in range(count):
            opus = frame(index)
            encrypted = self.member.encrypt(opus)
            packet = voice_transport.seal_packet(
                seal, index & 0xFFFF, 960 * index, self.ssrc, index + 1, bytes(encrypted))
            udp.transport.sendto(packet, self.server_address)
            sent.append(opus.hex())
            while not udp.queue.empty():
                packets.append(udp.queue.get_nowait())
            delay = start + (index + 1) * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        deadline = time.monotonic() + count * 0.02 + 20
        audio = lambda: sum(1 for p in packets if len(p) > 12 and p[1] & 0x7F == 120)  # noqa: E731
        while audio() < count and time.monotonic() < deadline:
            try:
                packets.append(await asyncio.wait_for(udp.queue.get(), 0.5))
            except asyncio.TimeoutError:
                pass
        decrypted, undecryptable = [], 0
        for packet in packets:
            if len(packet) <= 12 or packet[1] & 0x7F != 120:
                continue
            try:
                payload = voice_transport.open_packet(open_, packet)
            except Exception:
                undecryptable += 1
                continue
            if payload == SILENCE:
                continue
            plain = self.member.decrypt(self.partner, payload)
            if plain is None:
                undecryptable += 1
            else:
                decrypted.append(bytes(plain).hex())
        result.update(sent=sent, decrypted=decrypted, undecryptable=undecryptable,
                      privacy_code_after=self.member.state()["privacy_code"])


async def main() -> int:
    result: dict = {}
    try:
        await asyncio.wait_for(Client().run(result), 120)
    except Exception as error:  # reported to the Swift test, which fails with it
        result["error"] = repr(error)
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
