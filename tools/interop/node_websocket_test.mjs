// Interop: Node's built-in WebSocket client (undici, `node --experimental-websocket` on Node 20) against
// `tickwire serve --echo-path /echo`. The WHATWG API cannot send fragments or pings; those are covered by the
// Python client. usage: node --experimental-websocket node_websocket_test.mjs PATH/TO/tickwire
import { spawn } from "node:child_process";

const binary = process.argv[2];
const MESSAGE_LIMIT = 1 << 20;
const SIZES = [0, 125, 126, 65535, 65536, MESSAGE_LIMIT];
const results = [];

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["serve", "--host", "127.0.0.1", "--port", "0", "--echo-path", "/echo",
      "--max-message-bytes", String(MESSAGE_LIMIT), "--loops", "2"], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error("server did not start: " + log)); }, 20000);
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (match) { clearTimeout(timer); resolve({ child, port: Number(match[1]) }); }
    });
  });
}

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => resolve(ws);
    ws.onerror = (event) => reject(new Error("connect failed: " + (event.message ?? "")));
  });
}

function next(ws) {
  return new Promise((resolve, reject) => {
    ws.onmessage = (event) => resolve(event.data);
    ws.onclose = (event) => reject(Object.assign(new Error(`closed ${event.code}`), { code: event.code }));
  });
}

function closed(ws) {
  return new Promise((resolve) => { ws.onclose = (event) => resolve(event); });
}

async function check(name, body) {
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 30 s")), 30000));
  try { await Promise.race([body(), timeout]); results.push([name, null]); }
  catch (error) { results.push([name, String(error && error.message || error)]); }
}

const { child, port } = await startServer();
const url = `ws://127.0.0.1:${port}/echo`;

await check("binary echo of 0, 125, 126, 65535, 65536 and 1 MiB bytes", async () => {
  const ws = await open(url);
  for (const size of SIZES) {
    const payload = new Uint8Array(size).map((_, i) => (i * 13) & 0xff);
    const reply = next(ws);
    ws.send(payload);
    const echoed = new Uint8Array(await reply);
    if (echoed.length !== size || echoed.some((byte, i) => byte !== payload[i])) throw new Error(`size ${size} differs`);
  }
  ws.close(1000);
});

await check("text echo of 0, 125, 126, 65535, 65536 and 1 MiB bytes", async () => {
  const ws = await open(url);
  for (const size of SIZES) {
    const text = "x".repeat(Math.max(0, size - 3)) + (size >= 3 ? "€" : "x".repeat(size));
    const reply = next(ws);
    ws.send(text);
    if ((await reply) !== text) throw new Error(`size ${size} differs`);
  }
  ws.close(1000);
});

await check("clean close: close event 1000, wasClean", async () => {
  const ws = await open(url);
  const event = closed(ws);
  ws.close(1000, "bye");
  const result = await event;
  if (result.code !== 1000 || !result.wasClean) throw new Error(`code ${result.code} clean ${result.wasClean}`);
});

await check("a message over --max-message-bytes gets close code 1009", async () => {
  const ws = await open(url);
  const event = closed(ws);
  ws.send(new Uint8Array(MESSAGE_LIMIT + 1));
  const result = await event;
  if (result.code !== 1009) throw new Error(`code ${result.code}`);
});

const exitCode = await new Promise((resolve) => {
  const timer = setTimeout(() => { child.kill("SIGKILL"); resolve(null); }, 5000);
  child.on("exit", (code) => { clearTimeout(timer); resolve(code); });
  child.kill("SIGTERM");
});
results.push(["server exits 0 within 5 s of SIGTERM", exitCode === 0 ? null : `exit ${exitCode}`]);

for (const [name, error] of results) {
  console.log(`${error ? "FAIL" : "PASS"} node ${process.version} WebSocket: ${name}${error ? " -> " + error : ""}`);
}
const failed = results.filter(([, error]) => error).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
