#!/usr/bin/env python3
"""Abusive clients for tools/loadtest, run beside the measured appends and health checks.

  abuse.py MODE URL SECONDS

MODE is one of
  waitfor      24 clients asking GET /v1/verify?waitFor=x (auditor) and 30 asking
               GET /v1/churn?top=1&waitFor=0 (staff), each again as soon as answered;
  streams      200 live streams from position 0, four per analyst token (ANALYST_TOKENS, comma-
               separated), each reading as fast as it can and reconnecting when refused or ended;
  connections  IDLE connections (default 18,000) that never send a byte, and SLOW ones (default 500)
               that send a request head one byte a second, reopened when the server closes them.

Prints "ready" on stderr once the abuse is under way, then after SECONDS one JSON line on stdout with
what the clients saw (answers by status, connections opened and closed by the server).
"""
import asyncio
import collections
import json
import os
import sys
import time
from urllib.parse import urlparse

mode, url, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
host, port = urlparse(url).hostname, urlparse(url).port
statuses = collections.Counter()
counts = collections.Counter()


async def request(path, token):
    """One request on its own connection; returns the status."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        line = await reader.readline()
        await reader.read()
        return int(line.split()[1]) if line else 0
    finally:
        writer.close()


async def repeat(path, token, until):
    while time.monotonic() < until:
        try:
            statuses[await request(path, token)] += 1
        except OSError:
            statuses["error"] += 1


async def stream(token, until):
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            statuses["error"] += 1
            await asyncio.sleep(1)
            continue
        try:
            writer.write(f"GET /v1/events/stream?after=0 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
            await writer.drain()
            line = await reader.readline()
            status = int(line.split()[1]) if line else 0
            statuses[status] += 1
            if status != 200:
                await asyncio.sleep(1)
                continue
            while time.monotonic() < until:
                chunk = await asyncio.wait_for(reader.read(65536), timeout=max(0.1, until - time.monotonic()))
                if not chunk:
                    break
                counts["streamBytes"] += len(chunk)
        except (OSError, asyncio.TimeoutError, ValueError, IndexError):
            pass
        finally:
            writer.close()


async def hold(slow, until):
    """One connection held open: silent, or sending a head a byte a second; reopened when closed."""
    head = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Slow: " + "x" * 10_000
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            counts["connectFailed"] += 1
            await asyncio.sleep(1)
            continue
        counts["opened"] += 1
        try:
            for byte in head.encode():
                if time.monotonic() >= until:
                    return
                if slow:
                    writer.write(bytes([byte]))
                    await writer.drain()
                chunk = await asyncio.wait_for(reader.read(1), timeout=1 if slow else max(0.1, until - time.monotonic()))
                if not chunk:
                    counts["closedByServer"] += 1
                    break
        except asyncio.TimeoutError:
            continue
        except OSError:
            counts["closedByServer"] += 1
        finally:
            writer.close()


async def main():
    until = time.monotonic() + seconds
    tasks = []
    if mode == "waitfor":
        tasks += [repeat("/v1/verify?waitFor=x", os.environ["AUDITOR_TOKEN"], until) for _ in range(24)]
        tasks += [repeat("/v1/churn?top=1&waitFor=0", os.environ["STAFF_TOKEN"], until) for _ in range(30)]
    elif mode == "streams":
        tokens = os.environ["ANALYST_TOKENS"].split(",")
        tasks += [stream(tokens[index // 4 % len(tokens)], until) for index in range(200)]
    elif mode == "connections":
        idle, slow = int(os.environ.get("IDLE", "18000")), int(os.environ.get("SLOW", "500"))
        tasks += [hold(False, until) for _ in range(idle)] + [hold(True, until) for _ in range(slow)]
    else:
        sys.exit(f"abuse.py: unknown mode {mode}")
    running = [asyncio.ensure_future(task) for task in tasks]
    if mode == "connections":
        # Ready once every connection has been opened once (or after 30 s of trying).
        deadline = time.monotonic() + 30
        while counts["opened"] < len(running) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    print("ready", file=sys.stderr, flush=True)
    await asyncio.gather(*running)
    print(json.dumps({"mode": mode, "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)}, **counts}))


asyncio.run(main())
