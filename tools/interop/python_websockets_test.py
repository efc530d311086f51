#!/usr/bin/env python3
"""Interop: Python's `websockets` client (not written here) against `tickwire serve --echo-path /echo`.

usage: python_websockets_test.py PATH/TO/tickwire
Prints one line per case and ends with "N passed, M failed"; exits 1 if any failed.
"""
import asyncio
import sys

import websockets
from websockets.exceptions import ConnectionClosedError

from server_process import TickwireServer

MESSAGE_LIMIT = 1 << 20
SIZES = [0, 125, 126, 65535, 65536, MESSAGE_LIMIT]
results = []


def case(name):
    def wrap(fn):
        async def run(url):
            try:
                await asyncio.wait_for(fn(url), timeout=30)
                results.append((name, None))
            except Exception as error:  # noqa: BLE001 - any failure is the case's failure
                results.append((name, f"{type(error).__name__}: {error}"))
        run.case_name = name
        return run
    return wrap


@case("binary echo of 0, 125, 126, 65535, 65536 and 1 MiB bytes")
async def binary_echo(url):
    async with websockets.connect(url, max_size=None) as ws:
        for size in SIZES:
            payload = bytes((i * 7) & 0xFF for i in range(size))
            await ws.send(payload)
            echoed = await ws.recv()
            assert isinstance(echoed, bytes) and echoed == payload, f"size {size}"


@case("text echo of 0, 125, 126, 65535, 65536 and 1 MiB bytes (multi-byte characters included)")
async def text_echo(url):
    async with websockets.connect(url, max_size=None) as ws:
        for size in SIZES:
            text = ("aé€😀" * (size // 10 + 1)).encode()[:size].decode("utf-8", "ignore")
            await ws.send(text)
            echoed = await ws.recv()
            assert isinstance(echoed, str) and echoed == text, f"size {size}"


@case("fragmented text and binary messages come back whole")
async def fragmented(url):
    async with websockets.connect(url) as ws:
        await ws.send(["frag", "men", "ted ", "é"])
        assert await ws.recv() == "fragmented é"
        await ws.send([b"\x00\x01", b"", b"\x02"])
        assert await ws.recv() == b"\x00\x01\x02"


@case("ping is answered with a pong carrying the same payload")
async def ping(url):
    async with websockets.connect(url) as ws:
        waiter = await ws.ping(b"tickwire-ping")
        latency = await waiter
        assert latency >= 0


@case("clean close: the server answers 1000 and ends TCP")
async def clean_close(url):
    ws = await websockets.connect(url)
    await ws.close(1000, "bye")
    assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1000, ws.protocol.close_rcvd
    assert ws.protocol.close_sent.code == 1000 and ws.close_code == 1000


@case("a message over --max-message-bytes gets close code 1009")
async def oversized(url):
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(b"x" * (MESSAGE_LIMIT + 1))
        try:
            await ws.recv()
            raise AssertionError("server echoed an oversized message")
        except ConnectionClosedError as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1009, closed.rcvd


async def main(binary):
    with TickwireServer(binary, "--echo-path", "/echo", "--max-message-bytes", str(MESSAGE_LIMIT), "--loops", "2") as server:
        url = f"ws://127.0.0.1:{server.port}/echo"
        for run in (binary_echo, text_echo, fragmented, ping, clean_close, oversized):
            await run(url)
        exit_code = server.stop()
        results.append(("server exits 0 within 5 s of SIGTERM", None if exit_code == 0 else f"exit {exit_code}"))
    for name, error in results:
        print(f"{'PASS' if error is None else 'FAIL'} python websockets {websockets.__version__}: {name}"
              + ("" if error is None else f" -> {error}"))
    failed = sum(1 for _, error in results if error)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
