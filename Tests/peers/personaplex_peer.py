#!/usr/bin/env python3
"""Model-free PersonaPlex test peer.

Attribution: the I/O behaviour below is derived from the MIT-licensed NVIDIA PersonaPlex server
(NVIDIA/personaplex, moshi/moshi/server.py, ServerState.handle_chat; itself derived from Kyutai's Moshi).
No model runs here: decoded input audio is echoed back and fixed text pieces stand in for the LM output.

Behaviour mirrored from the real server (see /work/shared/reference/personaplex.md):
  * the WebSocket upgrade is accepted at once; every parameter error happens after it and closes the
    socket with no close frame and no message (the client sees 1006);
  * `seed` in the query raises KeyError (the server reads request["seed"], not the query);
  * an unknown voice file raises FileNotFoundError; an empty text prompt fails in the prompt phase;
  * prompts are written to shared state before taking the single asyncio.Lock (they leak between waiters);
  * a second client waits silently for the lock; nothing reads its socket while it waits;
  * the prompt phase runs N steps, each receiving with a 10 ms timeout and discarding what arrives;
  * then 0x00, then recv loop (0x01 -> OpusStreamReader.append_bytes), opus loop (every 1 ms read_pcm,
    None -> the reader died -> session ends), send loop (every 1 ms read_bytes -> 0x01 + page);
  * any task ending ends the session with a normal close.

Test instrumentation (not in the real server): anything the client sends before 0x00 is counted as an
early-message violation; --close-after and --mute-after simulate a server ending or stalling a session;
--handshake-extra-bytes and --send-unknown-kinds exercise protocol paths other Moshi servers use. After each session the peer prints `STATS {json}` on stdout; `GET /stats` returns
the totals as JSON. `READY port=N` is printed once listening.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time

import aiohttp
import numpy as np
import sphn
from aiohttp import web

SAMPLE_RATE = 24000
FRAME_SIZE = 1920  # 80 ms at 24 kHz: one model step
KNOWN_VOICES = (
    [f"NATF{i}.pt" for i in range(4)] + [f"NATM{i}.pt" for i in range(4)]
    + [f"VARF{i}.pt" for i in range(5)] + [f"VARM{i}.pt" for i in range(5)]
)


def emit(line):
    print(line, flush=True)


class Peer:
    def __init__(self, args):
        self.args = args
        self.lock = asyncio.Lock()
        self.voices = self._load_voices(args.voices)
        self.text_pieces = args.text_pieces.split("|") if args.text_pieces else []
        # Shared generator state, written before the lock like the real server does.
        self.current_text_prompt = None
        self.current_voice = None
        self.session_counter = 0
        self.totals = {
            "sessions": 0, "sessions_live": 0, "bytes_received": 0, "messages_received": 0,
            "reader_errors": 0, "frames_decoded": 0, "early_messages": 0, "pages_sent": 0,
            "texts_sent": 0, "unknown_kinds": 0, "setup_errors": 0,
        }

    @staticmethod
    def _load_voices(spec):
        if not spec:
            return set(KNOWN_VOICES)
        if os.path.isdir(spec):
            return set(os.listdir(spec))
        return {v.strip() for v in spec.split(",") if v.strip()}

    def _finish(self, stats):
        for key in self.totals:
            if key in stats and isinstance(stats[key], int):
                self.totals[key] += stats[key]
        emit("STATS " + json.dumps(stats, sort_keys=True))

    async def handle_stats(self, request):
        return web.json_response(self.totals)

    async def handle_chat(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.session_counter += 1
        stats = {
            "session": self.session_counter, "bytes_received": 0, "messages_received": 0,
            "reader_errors": 0, "frames_decoded": 0, "early_messages": 0, "pages_sent": 0,
            "texts_sent": 0, "unknown_kinds": 0, "setup_errors": 0, "live": False, "end": "",
            "connected_at": time.monotonic(), "handshake_at": None,
        }
        self.totals["sessions"] += 1
        try:
            await self._run_session(request, ws, stats)
            if not stats["end"]:
                stats["end"] = "done"
        except Exception as exc:  # the real server lets it escape; aiohttp then drops the socket (1006)
            stats["end"] = f"{type(exc).__name__}: {exc}"
            if not stats["live"]:
                stats["setup_errors"] = 1
                self._finish(stats)
                transport = request.transport
                if transport is not None:
                    transport.abort()
                return ws
        if stats["live"]:
            self.totals["sessions_live"] += 1
        self._finish(stats)
        return ws

    async def _run_session(self, request, ws, stats):
        query = request.query
        voice = query["voice_prompt"]
        if os.path.basename(voice) != voice:
            raise ValueError(f"invalid voice prompt filename {voice!r}")
        if voice not in self.voices:
            raise FileNotFoundError(f"voice prompt {voice!r} not found")
        text_prompt = query["text_prompt"]
        self.current_voice = voice
        self.current_text_prompt = text_prompt if len(text_prompt) > 0 else None
        seed = int(request["seed"]) if "seed" in query else None  # the server's bug: KeyError
        del seed

        async with self.lock:
            stats["prompt_used"] = self.current_text_prompt
            closed = False

            async def is_alive():
                if ws.closed:
                    return False
                try:
                    msg = await asyncio.wait_for(ws.receive(), timeout=0.01)
                except asyncio.TimeoutError:
                    return True
                except aiohttp.ClientConnectionError:
                    return False
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                    return False
                stats["early_messages"] += 1  # discarded like the real server, but recorded
                return True

            writer = sphn.OpusStreamWriter(SAMPLE_RATE)
            reader = sphn.OpusStreamReader(SAMPLE_RATE)
            if self.current_text_prompt is None:
                await is_alive()
                raise TypeError("text prompt tokens are None")
            for _ in range(self.args.prompt_steps):
                if not await is_alive():
                    stats["end"] = "client left during prompt phase"
                    return
                if self.args.step_delay > 0:
                    await asyncio.sleep(self.args.step_delay)
            if not await is_alive():
                stats["end"] = "client left during prompt phase"
                return
            await ws.send_bytes(b"\x00" + bytes(self.args.handshake_extra_bytes))
            if self.args.send_unknown_kinds:
                # Kinds the Moshi enum defines but PersonaPlex never sends: control (+1 byte), metadata, error, ping.
                for message in (b"\x03\x00", b'\x04{"note": "test"}', b"\x05test error", b"\x06"):
                    await ws.send_bytes(message)
            stats["live"] = True
            stats["handshake_at"] = time.monotonic()

            def muted():
                mute_after = self.args.mute_after
                return mute_after > 0 and time.monotonic() - stats["handshake_at"] > mute_after

            async def recv_loop():
                nonlocal closed
                try:
                    async for message in ws:
                        if message.type != aiohttp.WSMsgType.BINARY:
                            if message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE,
                                                aiohttp.WSMsgType.CLOSED):
                                break
                            continue
                        data = message.data
                        if len(data) == 0:
                            continue
                        stats["messages_received"] += 1
                        if data[0] == 1:
                            stats["bytes_received"] += len(data) - 1
                            try:
                                reader.append_bytes(data[1:])
                            except ValueError as error:
                                # The reader's thread already died ("sending on a closed channel"): the real server's
                                # recv_loop raises here and the session ends, whichever loop notices first.
                                if not stats["end"]:
                                    stats["reader_errors"] += 1
                                    stats["end"] = f"reader died (invalid Ogg/Opus input: {error})"
                                return
                        else:
                            stats["unknown_kinds"] += 1
                except asyncio.CancelledError:
                    closed = True  # another loop ended the session; it says why
                    raise
                finally:
                    closed = True
                    if not stats["end"] and not asyncio.current_task().cancelling():
                        stats["end"] = "client closed"

            async def opus_loop():
                pending = np.zeros(0, dtype=np.float32)
                frames = 0
                while not closed:
                    await asyncio.sleep(0.001)
                    try:
                        pcm = reader.read_pcm()
                    except Exception as error:  # sphn may raise instead of returning None: the server dies alike
                        if not stats["end"]:
                            stats["reader_errors"] += 1
                            stats["end"] = f"reader died (invalid Ogg/Opus input: {error})"
                        return
                    if pcm is None:
                        if not stats["end"]:
                            stats["reader_errors"] += 1
                            stats["end"] = "reader died (invalid Ogg/Opus input)"
                        return
                    if pcm.shape[-1] == 0:
                        continue
                    pending = np.concatenate((pending, pcm))
                    while pending.shape[-1] >= FRAME_SIZE:
                        chunk, pending = pending[:FRAME_SIZE], pending[FRAME_SIZE:]
                        stats["frames_decoded"] += 1
                        frames += 1
                        writer.append_pcm(np.ascontiguousarray(chunk, dtype=np.float32))
                        if muted():
                            continue
                        if self.text_pieces and self.args.text_every > 0 and frames % self.args.text_every == 0:
                            piece = self.text_pieces[(frames // self.args.text_every - 1) % len(self.text_pieces)]
                            await ws.send_bytes(b"\x02" + piece.encode("utf-8"))
                            stats["texts_sent"] += 1

            async def send_loop():
                while not closed:
                    await asyncio.sleep(0.001)
                    page = writer.read_bytes()
                    if len(page) > 0 and not muted():
                        await ws.send_bytes(b"\x01" + page)
                        stats["pages_sent"] += 1

            async def close_timer():
                await asyncio.sleep(self.args.close_after)
                stats["end"] = "closed by --close-after"

            tasks = [asyncio.create_task(recv_loop()), asyncio.create_task(opus_loop()),
                     asyncio.create_task(send_loop())]
            if self.args.close_after > 0:
                tasks.append(asyncio.create_task(close_timer()))
            done, pending_tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending_tasks:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
            for task in done:
                if task.exception() is not None and not stats["end"]:
                    stats["end"] = f"{type(task.exception()).__name__}: {task.exception()}"
            await ws.close()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as READY port=N)")
    parser.add_argument("--ssl-cert", help="PEM certificate chain: serve wss")
    parser.add_argument("--ssl-key", help="PEM private key for --ssl-cert")
    parser.add_argument("--voices", default="", help="comma-separated voice file names or a directory "
                                                   "(default: the 18 stock voices)")
    parser.add_argument("--prompt-steps", type=int, default=20,
                        help="prompt-phase steps before 0x00, each a 10 ms receive-and-discard")
    parser.add_argument("--step-delay", type=float, default=0.0,
                        help="extra seconds per prompt step (simulated model step time)")
    parser.add_argument("--text-every", type=int, default=4, help="send a text piece every k echoed frames")
    parser.add_argument("--text-pieces", default=" Hello| world.",
                        help="'|'-separated text pieces, sent in turn")
    parser.add_argument("--close-after", type=float, default=0.0,
                        help="end each live session after this many seconds (0: never)")
    parser.add_argument("--mute-after", type=float, default=0.0,
                        help="stop sending anything (but keep reading) this many seconds into each live session "
                             "(0: never), to simulate a stuck server")
    parser.add_argument("--handshake-extra-bytes", type=int, default=0,
                        help="zero bytes after 0x00 in the handshake (the Rust moshi backend sends 8)")
    parser.add_argument("--send-unknown-kinds", action="store_true",
                        help="right after the handshake, send one message each of kinds 0x03..0x06")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="exit when stdin closes (the parent test process ended)")
    return parser.parse_args(argv)


async def serve(args):
    peer = Peer(args)
    app = web.Application()
    app.router.add_get("/api/chat", peer.handle_chat)
    app.router.add_get("/stats", peer.handle_stats)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    ssl_context = None
    if args.ssl_cert:
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_context.load_cert_chain(args.ssl_cert, args.ssl_key)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    site = web.SockSite(runner, sock, ssl_context=ssl_context)
    await site.start()
    emit(f"READY port={sock.getsockname()[1]}")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def watch_stdin():
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # A parent that blocks or ignores signals passes that on to us; SIGTERM must stop the peer.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if args.exit_on_stdin_eof:
        threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
