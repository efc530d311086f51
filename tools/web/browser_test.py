#!/usr/bin/env python3
"""Real-browser test: headless Chromium plays a room on a tickwire server while an observer watches.

usage: browser_test.py PATH/TO/tickwire SCREENSHOT.png
Starts `tickwire serve` on a free loopback port, a spectator (tools/web/observer.mjs, node) in room "browser-test",
and Chromium on the page in test mode (?test=1). Through the DevTools protocol it waits (in real time, at most
60 s) for the page's verdict: it joined, its own avatar moved in the snapshots it received, its chat line came
back. The observer must see the browser's player move. Prints the browser console on failure, saves a screenshot,
stops everything it started, and ends with "N passed, M failed".
"""
import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from server_process import TickwireServer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEADLINE_S = 60


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


async def drive(page_url, screenshot_path, console):
    chromium = subprocess.Popen(
        [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,800",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir=" + os.path.join(ROOT, ".build", "chromium-profile"),
         "about:blank"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        devtools = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and devtools is None:
            line = chromium.stderr.readline()
            match = re.search(r"DevTools listening on (ws://[^\s]+)", line)
            if match:
                devtools = match.group(1)
        if devtools is None:
            raise RuntimeError("chromium did not start its DevTools endpoint")
        port = re.search(r":(\d+)/", devtools).group(1)
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
        page = next(t for t in targets if t["type"] == "page")
        async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as cdp:
            counter = 0

            async def call(method, params=None):
                nonlocal counter
                counter += 1
                await cdp.send(json.dumps({"id": counter, "method": method, "params": params or {}}))
                while True:
                    reply = json.loads(await cdp.recv())
                    if reply.get("method") == "Runtime.consoleAPICalled":
                        console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in reply["params"]["args"]))
                    elif reply.get("method") == "Runtime.exceptionThrown":
                        console.append("exception: " + reply["params"]["exceptionDetails"].get("text", "") + " " +
                                       str(reply["params"]["exceptionDetails"].get("exception", {}).get("description", "")))
                    if reply.get("id") == counter:
                        return reply.get("result", {})

            await call("Runtime.enable")
            await call("Page.enable")
            await call("Page.navigate", {"url": page_url})
            verdict = None
            deadline = time.monotonic() + DEADLINE_S
            while time.monotonic() < deadline:
                result = await call("Runtime.evaluate", {"expression":
                    "(() => { const r = document.getElementById('test-result'); return r && r.dataset.verdict ? r.dataset.verdict + ' ' + r.textContent : null })()",
                    "returnByValue": True})
                verdict = result.get("result", {}).get("value")
                if verdict:
                    break
                await asyncio.sleep(0.5)
            shot = await call("Page.captureScreenshot", {"format": "png"})
            if "data" in shot:
                with open(screenshot_path, "wb") as file:
                    file.write(base64.b64decode(shot["data"]))
            return verdict
    finally:
        chromium.terminate()
        try:
            chromium.wait(timeout=5)
        except subprocess.TimeoutExpired:
            chromium.kill()


def main(binary, screenshot_path):
    results = []
    if chromium_binary() is None:
        print("SKIP browser test: chromium is not installed (tools/test.sh installs it with apt-get when it can)")
        print("0 passed, 0 failed")
        return 0
    console = []
    crowd = min(int(os.environ.get("TICKWIRE_BROWSER_TEST_PLAYERS", "0")), 255)
    with TickwireServer(binary, "--loops", "2") as server:
        room_url = f"ws://127.0.0.1:{server.port}/rooms/browser-test"
        players = None
        if crowd > 0:  # scripted players, so the page's figures are measured in a full room
            players = subprocess.Popen(["node", "--experimental-websocket", "--no-warnings", os.path.join(ROOT, "tools/web/demo-players.mjs"),
                                        room_url, str(crowd), "90"], stdout=subprocess.DEVNULL)
            time.sleep(2)
        observer = subprocess.Popen(["node", "--experimental-websocket", "--no-warnings", os.path.join(ROOT, "tools/web/observer.mjs"),
                                     room_url, "chromium", "45"], stdout=subprocess.PIPE, text=True)
        try:
            measure = os.environ.get("TICKWIRE_BROWSER_TEST_MEASURE_S", "1.2")
            verdict = asyncio.run(drive(f"http://127.0.0.1:{server.port}/?room=browser-test&name=chromium&test=1&measure={measure}",
                                        screenshot_path, console))
        except Exception as error:  # noqa: BLE001 - report, do not trap
            verdict = None
            console.append(f"driver error: {type(error).__name__}: {error}")
        try:
            observed, _ = observer.communicate(timeout=50)
        except subprocess.TimeoutExpired:
            observer.kill()
            observed = ""
        results.append(("the page joined, moved in its own snapshots, got its chat line back, and resumed its avatar after a drop",
                        None if verdict and verdict.startswith("PASS") else f"verdict: {verdict}"))
        results.append(("a spectator in the same room saw the browser's player move",
                        None if observer.returncode == 0 else f"observer: {observed.strip() or 'no answer'}"))
        if players is not None:
            players.terminate()
            players.wait(timeout=10)
        results.append(("the server exits 0 on SIGTERM", None if server.stop() == 0 else "it did not"))
    for name, error in results:
        print(f"{'PASS' if error is None else 'FAIL'} chromium: {name}" + ("" if error is None else f" -> {error}"))
    if verdict:
        print(f"page figures with {crowd + 1} players in the room: {verdict.split(' ', 1)[1]}")
    print(f"screenshot: {screenshot_path}")
    failed = sum(1 for _, error in results if error)
    if failed:
        print("browser console:\n  " + "\n  ".join(console[-50:]))
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
