"""discord.py 2.7 (PyPI) as an independent second bot in a voice channel of the Discord simulator.

Environment: SIM_API_BASE, SIM_GATEWAY, SIM_TOKEN (as discordpy_peer.py), SIM_VOICE_CHANNEL (the channel to join),
PEER_PARTNER_ID (the user id of the Swift VoiceConnection already in the call), PEER_FRAMES (frames each way).

discord.py joins through the main gateway (op 4, VOICE_STATE/SERVER_UPDATE), runs the voice gateway v8 handshake,
IP discovery and XChaCha20 transport against the simulated voice server, and its DAVE member is davey (OpenMLS).
Once its DAVE session is ready with the partner in the group it prints `READY {json}`, then sends PEER_FRAMES
pre-encoded Opus frames (`send_audio_packet(..., encode=False)`, DAVE-encrypted by davey) on 20 ms deadlines.
discord.py has no voice receive path, so what the partner sends is taken from its UDP socket
(`add_socket_listener`), transport-decrypted here with PyNaCl (Tests/interop/voice_transport.py) and
DAVE-decrypted with discord.py's own davey session. Ends with `RESULT {json}`: what it sent, what it decrypted,
its voice privacy code.
"""
import asyncio
import hashlib
import json
import os
import sys
import time

import davey
import discord
import discord.gateway
import discord.http
import yarl

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import voice_transport  # noqa: E402  (the transport opener the PyNaCl/cryptography check uses)

SILENCE = b"\xf8\xff\xfe"


def frame(index: int) -> bytes:
    """A deterministic 20 ms Opus-like frame (TOC 0xFC then 40-71 bytes), different per index."""
    body = hashlib.sha256(b"discord.py frame %d" % index).digest()
    return b"\xfc" + (body + body)[: 40 + index % 32]


def patch_voice_websocket() -> None:
    """discord.py always opens wss://{endpoint}/?v=8; the simulator is plain ws on loopback."""
    original = discord.http.HTTPClient.ws_connect

    async def ws_connect(self, url, *, compress=0):
        if url.startswith("wss://127.0.0.1"):
            url = "ws://" + url[len("wss://"):]
        return await original(self, url, compress=compress)

    discord.http.HTTPClient.ws_connect = ws_connect


async def exchange(client: discord.Client, result: dict) -> None:
    partner = int(os.environ["PEER_PARTNER_ID"])
    count = int(os.environ.get("PEER_FRAMES", "100"))
    channel = client.get_channel(int(os.environ["SIM_VOICE_CHANNEL"]))
    if channel is None:
        raise RuntimeError("voice channel not in the guild cache")
    voice = await channel.connect(timeout=30, reconnect=False, self_deaf=False)
    state = voice._connection  # discord.py keeps the DAVE session and transport key on its connection state
    deadline = time.monotonic() + 30
    while True:
        session = state.dave_session
        if session is not None and session.ready and str(partner) in [str(u) for u in session.get_user_ids()]:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("davey never formed a group with the partner")
        await asyncio.sleep(0.02)
    packets: list = []
    state.add_socket_listener(lambda data: packets.append(bytes(data)))
    result["user_id"] = str(client.user.id)
    result["mode"] = state.mode
    result["privacy_code"] = session.voice_privacy_code
    result["epoch"] = session.epoch
    print("READY " + json.dumps(result), flush=True)

    await voice.ws.speak()
    await asyncio.sleep(0.2)  # let op 5 (our SSRC) reach the partner before the first packet
    sent = []
    start = time.monotonic()
    for index in range(count):
        opus = frame(index)
        voice.send_audio_packet(opus, encode=False)
        sent.append(opus.hex())
        delay = start + (index + 1) * 0.02 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    result["sent"] = sent

    # Wait for the partner's frames (it sends `count` of them, then five silence frames).
    deadline = time.monotonic() + count * 0.02 + 20
    while sum(1 for p in packets if len(p) > 12 and p[1] & 0x7F == 120) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    _seal, open_ = voice_transport.aead(state.mode, bytes(state.secret_key))
    decrypted, undecryptable, silence = [], 0, 0
    for packet in list(packets):
        if len(packet) <= 12 or packet[1] & 0x7F != 120:
            continue  # RTCP, keepalive echoes
        try:
            payload = voice_transport.open_packet(open_, packet)
        except Exception:
            undecryptable += 1
            continue
        if payload == SILENCE:
            silence += 1
            continue
        try:
            decrypted.append(bytes(session.decrypt(partner, davey.MediaType.audio, payload)).hex())
        except Exception as error:
            undecryptable += 1
            result.setdefault("dave_errors", []).append(str(error))
    result["decrypted"] = decrypted
    result["undecryptable"] = undecryptable
    result["silence"] = silence
    result["privacy_code_after"] = session.voice_privacy_code
    await voice.disconnect(force=True)


async def main() -> int:
    discord.http.Route.BASE = os.environ["SIM_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["SIM_GATEWAY"])
    patch_voice_websocket()
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    client = discord.Client(intents=intents, chunk_guilds_at_startup=False)
    result: dict = {}
    done = asyncio.Event()

    @client.event
    async def on_ready():
        try:
            await exchange(client, result)
        except Exception as error:  # reported to the Swift test, which fails with it
            result["error"] = repr(error)
        finally:
            done.set()

    async def runner():
        async with client:
            await client.start(os.environ["SIM_TOKEN"])

    task = asyncio.create_task(runner())
    try:
        await asyncio.wait_for(done.wait(), timeout=120)
    except asyncio.TimeoutError:
        result["error"] = "timed out"
    await client.close()
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
