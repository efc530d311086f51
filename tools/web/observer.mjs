// Watches a room as a spectator and reports whether the player NAME appears and moves (for the browser test).
// usage: node --experimental-websocket tools/web/observer.mjs ws://127.0.0.1:PORT/rooms/ROOM NAME SECONDS
import { ARENA_INPUT_BITS, BitReader, SUBPROTOCOL, SnapshotTracker, encodeClientMessage, readServerMessage }
  from "../../Sources/Server/Static/tickwire.js";

const [url, name, secondsText = "20"] = process.argv.slice(2);
const socket = new WebSocket(`${url}?watch=1`, SUBPROTOCOL);
socket.binaryType = "arraybuffer";
const snapshotTracker = new SnapshotTracker();
let player = null, firstX = null, lastX = null, sequence = 0, decodeErrors = 0;

function finish() {
  const moved = firstX !== null && lastX !== null && Math.abs(lastX - firstX) > 40 * 16;
  console.log(JSON.stringify({ sawPlayer: player !== null, moved, decodeErrors }));
  socket.close(1000);
  process.exit(player !== null && moved && decodeErrors === 0 ? 0 : 1);
}

socket.onopen = () => {
  socket.send(encodeClientMessage({ type: "join", name: "observer", resumeToken: null }, ARENA_INPUT_BITS));
  setInterval(() => socket.send(encodeClientMessage({ type: "input", sequence: ++sequence, acknowledgedTick: snapshotTracker.newestTick, bits: 0 }, ARENA_INPUT_BITS)), 50);
};
socket.onmessage = (event) => {
  try {
    const reader = new BitReader(new Uint8Array(event.data));
    const message = readServerMessage(reader);
    if (message.type === "roster" && message.name === name) player = message.player;
    if (message.type !== "snapshot") return;
    const entities = snapshotTracker.receive(message, reader);
    if (entities === null) return;
    const avatar = entities.find((entity) => entity.kind === 0 && entity.fields[6] === player);
    if (avatar) {
      firstX ??= avatar.fields[0];
      lastX = avatar.fields[0];
      if (Math.abs(lastX - firstX) > 40 * 16) finish();
    }
  } catch {
    decodeErrors += 1;
  }
};
setTimeout(finish, Number(secondsText) * 1000);
