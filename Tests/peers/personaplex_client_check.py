#!/usr/bin/env python3
"""An independent PersonaPlex client (aiohttp + sphn, as the PersonaPlex web client's Python counterparts use) that
checks a server speaks the protocol: the 0x00 gate, Ogg Opus both ways, text pieces.

Usage: personaplex_client_check.py URL  — connects with text_prompt/voice_prompt, waits for 0x00 (sending nothing
before it), streams 1.2 s of a 440 Hz tone then 0.8 s of silence as 24 kHz mono Ogg Opus in real time, reads
everything the server sends for 1 s more, and prints one JSON line: handshake, pages, texts, decoded samples, and
the RMS of the decoded reply while the tone was echoed.
"""

import asyncio
import json
import sys
import time

import aiohttp
import numpy as np
import sphn

RATE = 24000
FRAME = 1920  # 80 ms, the PersonaPlex web client's chunk


async def main(url):
    result = {"handshake": False, "pages": 0, "texts": [], "samples": 0, "peak_rms": 0.0, "early_sent": 0}
    query = {"text_prompt": "You are a helpful assistant.", "voice_prompt": "NATF0.pt"}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, params=query) as ws:
            msg = await asyncio.wait_for(ws.receive(), timeout=20)
            if msg.type != aiohttp.WSMsgType.BINARY or not msg.data or msg.data[0] != 0:
                print(json.dumps({"error": f"expected 0x00 first, got {msg.type} {msg.data!r:.40}"}), flush=True)
                return
            result["handshake"] = True
            writer = sphn.OpusStreamWriter(RATE)
            reader = sphn.OpusStreamReader(RATE)
            pcm_out = []

            async def receive():
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.BINARY or not msg.data:
                        continue
                    kind, payload = msg.data[0], msg.data[1:]
                    if kind == 1:
                        result["pages"] += 1
                        reader.append_bytes(payload)
                        pcm = reader.read_pcm()
                        if pcm is not None and len(pcm):
                            pcm_out.append(pcm)
                    elif kind == 2:
                        result["texts"].append(payload.decode("utf-8", "replace"))

            receiver = asyncio.create_task(receive())
            t = np.arange(int(RATE * 2.0)) / RATE
            signal = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            signal[int(RATE * 1.2):] = 0
            start = time.monotonic()
            for i in range(0, len(signal), FRAME):
                writer.append_pcm(signal[i:i + FRAME])
                data = writer.read_bytes()
                if data:
                    await ws.send_bytes(b"\x01" + data)
                due = start + (i + FRAME) / RATE
                await asyncio.sleep(max(0, due - time.monotonic()))
            await asyncio.sleep(1.0)
            await ws.close()
            await asyncio.wait_for(receiver, timeout=5)
            pcm = reader.read_pcm()
            if pcm is not None and len(pcm):
                pcm_out.append(pcm)
            if pcm_out:
                audio = np.concatenate(pcm_out)
                result["samples"] = int(len(audio))
                frames = [audio[i:i + 480] for i in range(0, len(audio) - 480, 480)]
                result["peak_rms"] = float(max(np.sqrt(np.mean(f * f)) for f in frames)) if frames else 0.0
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
