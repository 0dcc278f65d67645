"""discord.py 2.7 (PyPI) as an independent second bot against the Discord simulator.

Environment: SIM_API_BASE (http://127.0.0.1:PORT/api/v10), SIM_GATEWAY (ws://127.0.0.1:PORT/), SIM_TOKEN, SIM_CHANNEL.
Logs in, waits for its guilds (GUILD_CREATE), posts one message to SIM_CHANNEL, prints one JSON line and exits.
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
    intents.message_content = True
    client = discord.Client(intents=intents, chunk_guilds_at_startup=False)
    result: dict = {}
    done = asyncio.Event()

    @client.event
    async def on_ready():
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
        async with client:
            await client.start(os.environ["SIM_TOKEN"])

    task = asyncio.create_task(runner())
    try:
        await asyncio.wait_for(done.wait(), timeout=30)
    except asyncio.TimeoutError:
        result["error"] = "timed out waiting for on_ready"
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
