"""Starts `tickwire serve` on a free loopback port for interop tests, and stops it (SIGTERM, checked)."""
import os
import re
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TickwireServer:
    def __init__(self, binary, *flags):
        self.binary = binary
        self.flags = list(flags)
        self.process = None
        self.port = None
        self.log = []

    def __enter__(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--host", "127.0.0.1", "--port", "0", *self.flags],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.log.append(line)
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                return self
        self.process.kill()
        raise RuntimeError("server did not start: " + "".join(self.log))

    def stop(self):
        """SIGTERM, then wait up to 5 s; returns the exit code (KILL and None if it hung)."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def __exit__(self, *exc):
        self.stop()
        rest = self.process.stderr.read()
        if rest:
            self.log.append(rest)
        return False
