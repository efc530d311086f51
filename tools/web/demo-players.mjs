// Scripted players for looking at the browser client (and measuring it with a full room) until `tickwire bots`
// exists. usage: node --experimental-websocket tools/web/demo-players.mjs ws://127.0.0.1:8080/rooms/demo 64 30
// Each player joins, then holds random buttons and aim for 0.3-0.7 s at a time, shooting half the time, and
// acknowledges the snapshots it decodes. Stops after the given seconds.
import { ARENA_INPUT_BITS, BitReader, SUBPROTOCOL, SnapshotTracker, arenaInputBits, encodeClientMessage, readServerMessage }
  from "../../Sources/Server/Static/tickwire.js";

const [url = "ws://127.0.0.1:8080/rooms/demo", countText = "16", secondsText = "30"] = process.argv.slice(2);
const count = Math.min(Number(countText), 256), seconds = Math.min(Number(secondsText), 3600);
const sockets = [];
let decodeErrors = 0, snapshots = 0;

for (let n = 0; n < count; n++) {
  const socket = new WebSocket(url, SUBPROTOCOL);
  socket.binaryType = "arraybuffer";
  const snapshotTracker = new SnapshotTracker();
  let sequence = 0, input = {}, until = 0, timer;
  socket.onopen = () => {
    socket.send(encodeClientMessage({ type: "join", name: `bot${n + 1}`, resumeToken: null }, ARENA_INPUT_BITS));
    timer = setInterval(() => {
      if (Date.now() > until) {
        input = { up: Math.random() < 0.33, down: Math.random() < 0.33, left: Math.random() < 0.33, right: Math.random() < 0.33,
                  shoot: Math.random() < 0.5, aim: Math.floor(Math.random() * 65536) };
        until = Date.now() + 300 + Math.random() * 400;
      }
      sequence += 1;
      socket.send(encodeClientMessage({ type: "input", sequence, acknowledgedTick: snapshotTracker.newestTick, bits: arenaInputBits(input) },
                                      ARENA_INPUT_BITS));
    }, 1000 / 60);
  };
  socket.onmessage = (event) => {
    try {
      const reader = new BitReader(new Uint8Array(event.data));
      const message = readServerMessage(reader);
      if (message.type === "snapshot" && snapshotTracker.receive(message, reader) !== null) snapshots += 1;
    } catch {
      decodeErrors += 1;
    }
  };
  socket.onclose = () => clearInterval(timer);
  sockets.push(socket);
}

setTimeout(() => {
  for (const socket of sockets) socket.close(1000, "done");
  console.log(`${count} players for ${seconds} s: ${snapshots} snapshots decoded, ${decodeErrors} decode errors`);
  setTimeout(() => process.exit(decodeErrors ? 1 : 0), 500);
}, seconds * 1000);
