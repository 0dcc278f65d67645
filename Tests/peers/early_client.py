#!/usr/bin/env python3
"""A deliberately wrong PersonaPlex client (Kyutai's Python/Rust clients behave like this): it sends its Ogg stream
before the server's 0x00, so the server's prompt phase swallows the BOS/OpusHead page and its Ogg reader dies on
the first page it does see. Prints one JSON line: when the handshake came and when the server closed.
Usage: early_client.py URL OGG_FILE"""

import asyncio
import json
import sys
import time

import aiohttp


def pages(data):
    out, offset = [], 0
    while offset + 27 <= len(data) and data[offset:offset + 4] == b"OggS":
        segments = data[offset + 26]
        body = sum(data[offset + 27:offset + 27 + segments])
        length = 27 + segments + body
        out.append(data[offset:offset + length])
        offset += length
    return out


async def main(url, ogg_path):
    stream = pages(open(ogg_path, "rb").read())
    result = {"early_pages": 0, "handshake_after": None, "closed_after_handshake": None}
    start = time.monotonic()
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            for page in stream[:3]:  # OpusHead, OpusTags, first audio page: all before 0x00
                await ws.send_bytes(b"\x01" + page)
                result["early_pages"] += 1
            handshake_at = None
            index = 3
            while time.monotonic() - start < 15:
                try:
                    message = await ws.receive(timeout=0.02)
                except asyncio.TimeoutError:
                    message = None
                if message is not None:
                    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        if handshake_at is not None:
                            result["closed_after_handshake"] = time.monotonic() - handshake_at
                        break
                    if message.type == aiohttp.WSMsgType.BINARY and message.data[:1] == b"\x00" and handshake_at is None:
                        handshake_at = time.monotonic()
                        result["handshake_after"] = handshake_at - start
                if handshake_at is not None and index < len(stream):
                    await ws.send_bytes(b"\x01" + stream[index])
                    index += 1
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
