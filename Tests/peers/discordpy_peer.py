"""discord.py 2.7 (PyPI) as an independent second bot against the Discord simulator.

Environment: SIM_API_BASE (http://127.0.0.1:PORT/api/v10), SIM_GATEWAY (ws://127.0.0.1:PORT/), SIM_TOKEN, SIM_CHANNEL,
SIM_MODE (optional).
- default: logs in, waits for its guilds (GUILD_CREATE), posts one message to SIM_CHANNEL.
- SIM_MODE=no-content: identifies without the MESSAGE_CONTENT intent and reports the content of the first
  SIM_MESSAGES (default 2) messages it receives.
Any exception from the client (e.g. PrivilegedIntentsRequired after a 4014 close) is reported by class name.
Prints one JSON line ("RESULT {...}") and exits.
"""
import asyncio
import json
import os
import sys

import discord
import discord.gateway
import discord.http
import yarl


async def main() -> int:
    # Point REST and the gateway at the simulator (discord.py reads these class attributes at request time).
    discord.http.Route.BASE = os.environ["SIM_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["SIM_GATEWAY"])
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    intents.guild_messages = True
    mode = os.environ.get("SIM_MODE", "post")
    intents.message_content = mode != "no-content"
    client = discord.Client(intents=intents, chunk_guilds_at_startup=False)
    result: dict = {}
    done = asyncio.Event()
    wanted = int(os.environ.get("SIM_MESSAGES", "2"))

    @client.event
    async def on_message(message):
        if mode != "no-content":
            return
        result["user_id"] = str(client.user.id)
        result.setdefault("contents", []).append(message.content)
        if len(result["contents"]) >= wanted:
            done.set()

    @client.event
    async def on_ready():
        if mode == "no-content":
            return
        try:
            result["user_id"] = str(client.user.id)
            result["guilds"] = sorted(str(g.id) for g in client.guilds)
            result["channels"] = sum(len(g.channels) for g in client.guilds)
            channel = client.get_channel(int(os.environ["SIM_CHANNEL"]))
            result["channel_found"] = channel is not None
            if channel is not None:
                message = await channel.send("hello from discord.py")
                result["message_id"] = str(message.id)
                result["message_content"] = message.content
        except Exception as error:  # reported to the Swift test, which fails with it
            result["error"] = repr(error)
        finally:
            done.set()

    async def runner():
        try:
            async with client:
                await client.start(os.environ["SIM_TOKEN"])
        except Exception as error:  # reported to the Swift test by class name
            result["exception"] = type(error).__name__
            result["error"] = repr(error)
            done.set()

    task = asyncio.create_task(runner())
    try:
        await asyncio.wait_for(done.wait(), timeout=30)
    except asyncio.TimeoutError:
        result["error"] = "timed out waiting for on_ready" if mode != "no-content" else "timed out waiting for messages"
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
