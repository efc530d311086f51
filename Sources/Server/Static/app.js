// The Arena browser client: connects to /rooms/{room}, sends input at the tick rate, decodes snapshots against
// baselines, interpolates others in the past, predicts the player's own movement, and draws it all on a canvas.
import { ARENA_INPUT_BITS, BitReader, SUBPROTOCOL, SnapshotTracker, arenaInputBits, encodeClientMessage, readServerMessage }
  from "/tickwire.js";

const $ = (id) => document.getElementById(id);
const canvas = $("view");
const context = canvas.getContext("2d");
const params = new URLSearchParams(location.search);

/** Arena's movement rules (Simulation/Arena/ArenaConfig.swift), for predicting the player's own avatar. */
const ARENA = { radius: 20, acceleration: 0.9, retained: 0.86, speedMax: 7, projectileSpeed: 16, projectileRadius: 4, diagonal: 46341 / 65536 };
const KIND = { player: 0, projectile: 1, obstacle: 2 };

const game = {
  socket: null, closing: false, reconnectDelayMs: 500, state: "idle",
  player: null, spectator: false, tickRateHz: 60, snapshotRateHz: 60, world: { width: 3200, height: 2400 }, resumeToken: null,
  snapshots: new SnapshotTracker(), lastProcessedInput: 0,
  get newestTick() { return this.snapshots.newestTick; },
  buffer: [], names: new Map(), obstacles: [],
  serverClock: null, rttMs: null, clockOffsetMs: null, jitterTicks: 0, lastSnapshotAt: null,
  sequence: 0, pending: [], inputTimer: null, pingTimer: null,
  predicted: null, display: null, ownServer: null,
  stats: { snapshots: 0, bytesDown: 0, bytesUp: 0, decodeErrors: 0, frames: 0, fps: 0, snapshotsPerSecond: 0, downKBps: 0, upKBps: 0 },
};
window.tickwire = game;  // for the browser test and for curious players

// MARK: Connection

function setStatus(state, text) {
  game.state = state;
  $("status").dataset.state = state;
  $("status").textContent = text;
}

function send(message) {
  if (game.socket?.readyState !== WebSocket.OPEN) return;
  const bytes = encodeClientMessage(message, ARENA_INPUT_BITS);
  game.stats.bytesUp += bytes.length;
  game.socket.send(bytes);
}

function connect() {
  const room = $("room").value.trim() || "lobby";
  game.spectator = $("watch").checked;
  // Spectators may not chat in a game room (docs/operations.md); in a replay room the chat carries playback commands.
  const mute = game.spectator && params.get("replay") !== "1";
  $("chat-input").disabled = mute;
  $("chat-input").placeholder = mute ? "spectators cannot chat" : "Enter to chat";
  history.replaceState(null, "", `?room=${encodeURIComponent(room)}${game.spectator ? "&watch=1" : ""}`);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/rooms/${encodeURIComponent(room)}${game.spectator ? "?watch=1" : ""}`, SUBPROTOCOL);
  socket.binaryType = "arraybuffer";
  game.socket = socket;
  game.closing = false;
  setStatus("connecting", `connecting to ${room}…`);
  socket.onopen = () => {
    setStatus("connecting", "joining…");
    send({ type: "join", name: $("name").value.trim() || "player", resumeToken: game.resumeToken });
  };
  socket.onmessage = (event) => receive(new Uint8Array(event.data));
  socket.onclose = (event) => {
    stopTimers();
    if (game.closing || socket !== game.socket) return;
    const delay = game.reconnectDelayMs;
    game.reconnectDelayMs = Math.min(delay * 2, 8000);
    setStatus("reconnecting", `connection lost (${event.code}${event.reason ? " " + event.reason : ""}); retrying in ${(delay / 1000).toFixed(1)} s`);
    setTimeout(() => { if (!game.closing && socket === game.socket) connect(); }, delay);
  };
}

function stopTimers() {
  clearInterval(game.inputTimer);
  clearInterval(game.pingTimer);
}

// MARK: Messages

function receive(bytes) {
  game.stats.bytesDown += bytes.length;
  const reader = new BitReader(bytes);
  let message;
  try {
    message = readServerMessage(reader);
    if (message.type === "snapshot") return receiveSnapshot(message, reader);
    reader.finish();
  } catch (error) {
    game.stats.decodeErrors += 1;
    console.error("undecodable message", error);
    return;
  }
  switch (message.type) {
    case "welcome":
      game.player = message.player;
      game.tickRateHz = message.tickRateHz;
      game.snapshotRateHz = message.snapshotRateHz;
      game.world = { width: message.worldWidthRaw / 65536, height: message.worldHeightRaw / 65536 };
      game.resumeToken = message.resumeToken;
      game.reconnectDelayMs = 500;
      game.snapshots.reset();
      game.buffer = [];
      game.pending = [];
      game.predicted = null;
      setStatus("playing", `${game.spectator ? "watching" : "playing"} as ${$("name").value.trim() || "player"}`);
      stopTimers();
      game.inputTimer = setInterval(sendInput, 1000 / game.tickRateHz);
      game.pingTimer = setInterval(() => send({ type: "ping", clientTimeUs: BigInt(Math.round(performance.now() * 1000)) }), 1000);
      break;
    case "pong": {
      const now = performance.now();
      game.rttMs = now - Number(message.clientTimeUs) / 1000;
      // The server's clock minus ours, assuming the pong left the server halfway through the round trip.
      const offset = Number(message.serverTimeUs) / 1000 - (now - game.rttMs / 2);
      game.clockOffsetMs = game.clockOffsetMs === null ? offset : game.clockOffsetMs + (offset - game.clockOffsetMs) * 0.2;
      break;
    }
    case "roster":
      game.names.set(message.player, message.name);
      break;
    case "chat":
      addChatLine(`${message.name}: ${message.text}`);
      break;
    case "kick":
      game.closing = true;
      setStatus("closed", `removed: ${message.text}`);
      break;
  }
}

function receiveSnapshot(header, reader) {
  const entities = game.snapshots.receive(header, reader);
  if (entities === null) {
    game.stats.decodeErrors += 1;  // we never had that baseline: wait for one we do
    return;
  }
  game.lastProcessedInput = header.lastProcessedInput;
  game.stats.snapshots += 1;

  const now = performance.now();
  // Jitter: how far snapshot arrivals stray from their period, smoothed (in ticks); interpolation waits that much more.
  if (game.lastSnapshotAt !== null) {
    const periodMs = 1000 / game.snapshotRateHz;
    const deviationTicks = (Math.abs(now - game.lastSnapshotAt - periodMs) / 1000) * game.tickRateHz;
    game.jitterTicks += (Math.min(deviationTicks, game.tickRateHz) - game.jitterTicks) * 0.1;
  }
  game.lastSnapshotAt = now;
  const byIndex = new Map(entities.map((entity) => [entity.index, entity]));
  game.buffer.push({ tick: header.tick, byIndex });
  while (game.buffer.length > 2 && header.tick - game.buffer[1].tick > game.tickRateHz) game.buffer.shift();
  game.obstacles = entities.filter((entity) => entity.kind === KIND.obstacle)
    .map(({ fields: [minX, minY, maxX, maxY] }) => ({ minX: minX / 16, minY: minY / 16, maxX: maxX / 16, maxY: maxY / 16 }));

  // The server's clock, smoothed: snapshots arrive with jitter, the estimate should not.
  const observed = { tick: header.tick, at: now };
  if (!game.serverClock) game.serverClock = observed;
  else {
    const drift = estimatedServerTick(now) - header.tick;
    if (Math.abs(drift) > game.tickRateHz / 2) game.serverClock = observed;
    else game.serverClock = { tick: game.serverClock.tick - drift * 0.1, at: game.serverClock.at };
  }
  reconcile(header.tick, byIndex);
}

function addChatLine(text) {
  const line = document.createElement("div");
  line.textContent = text;
  $("chat-log").append(line);
  while ($("chat-log").childElementCount > 50) $("chat-log").firstElementChild.remove();
  $("chat-log").scrollTop = $("chat-log").scrollHeight;
}

// MARK: Input and prediction

const keys = new Set();
const mouse = { x: 0, y: 0, down: false };
addEventListener("keydown", (event) => { if (document.activeElement?.tagName !== "INPUT") keys.add(event.code); });
addEventListener("keyup", (event) => keys.delete(event.code));
addEventListener("blur", () => { keys.clear(); mouse.down = false; });
canvas.addEventListener("mousemove", (event) => { mouse.x = event.offsetX; mouse.y = event.offsetY; });
canvas.addEventListener("mousedown", () => { mouse.down = true; canvas.focus(); document.activeElement?.blur(); });
addEventListener("mouseup", () => { mouse.down = false; });

function currentInput() {
  const held = (...codes) => codes.some((code) => keys.has(code));
  const self = game.display ?? { x: game.world.width / 2, y: game.world.height / 2 };
  const screen = worldToScreen(self);
  const angle = Math.atan2(mouse.y - screen.y, mouse.x - screen.x);
  return {
    up: held("KeyW", "ArrowUp"), down: held("KeyS", "ArrowDown"), left: held("KeyA", "ArrowLeft"), right: held("KeyD", "ArrowRight"),
    shoot: mouse.down || held("Space"), aim: Math.round(((angle / (2 * Math.PI)) * 65536 + 65536) % 65536),
  };
}

function sendInput() {
  const input = game.spectator ? {} : (window.tickwireTestInput?.() ?? currentInput());
  game.sequence += 1;
  send({ type: "input", sequence: game.sequence, acknowledgedTick: game.newestTick, bits: arenaInputBits(input) });
  if (game.spectator || !game.predicted) return;
  game.pending.push({ sequence: game.sequence, input });
  if (game.pending.length > 240) game.pending.shift();
  step(game.predicted, input);
}

/** One tick of Arena movement for the player's own avatar (as Arena.apply and movePlayers do, in floating point). */
function step(state, input) {
  let dx = (input.right ? 1 : 0) - (input.left ? 1 : 0);
  let dy = (input.down ? 1 : 0) - (input.up ? 1 : 0);
  if (dx !== 0 && dy !== 0) { dx *= ARENA.diagonal; dy *= ARENA.diagonal; }
  state.vx = (state.vx + dx * ARENA.acceleration) * ARENA.retained;
  state.vy = (state.vy + dy * ARENA.acceleration) * ARENA.retained;
  const speed = Math.hypot(state.vx, state.vy);
  if (speed > ARENA.speedMax) { state.vx *= ARENA.speedMax / speed; state.vy *= ARENA.speedMax / speed; }
  let x = state.x + state.vx, y = state.y + state.vy;
  const r = ARENA.radius;
  if (x < r || x > game.world.width - r) state.vx = 0;
  if (y < r || y > game.world.height - r) state.vy = 0;
  x = Math.min(Math.max(x, r), game.world.width - r);
  y = Math.min(Math.max(y, r), game.world.height - r);
  for (const wall of game.obstacles) {
    const nx = Math.min(Math.max(x, wall.minX), wall.maxX), ny = Math.min(Math.max(y, wall.minY), wall.maxY);
    const distance = Math.hypot(x - nx, y - ny);
    if (distance < r && distance > 0) { x = nx + ((x - nx) / distance) * r; y = ny + ((y - ny) / distance) * r; }
  }
  state.x = Math.floor(x * 16) / 16;
  state.y = Math.floor(y * 16) / 16;
}

/** The server says where we were after input `lastProcessedInput`: start from there and replay what came after. */
function reconcile(tick, byIndex) {
  const own = [...byIndex.values()].find((entity) => entity.kind === KIND.player && entity.fields[6] === game.player);
  if (!own || game.spectator) { game.predicted = null; return; }
  const position = { x: own.fields[0] / 16, y: own.fields[1] / 16 };
  const previous = game.ownServer;
  const ticks = previous ? tick - previous.tick : 0;
  const velocity = ticks > 0 && ticks <= 6 ? { vx: (position.x - previous.x) / ticks, vy: (position.y - previous.y) / ticks } : { vx: 0, vy: 0 };
  game.ownServer = { tick, ...position };
  if (own.fields[5] === 0) { game.predicted = null; game.pending = []; return; }  // dead: nothing to predict
  game.pending = game.pending.filter((entry) => entry.sequence > game.lastProcessedInput);
  const state = { ...position, ...velocity };
  for (const entry of game.pending) step(state, entry.input);
  game.predicted = state;
  if (!game.display || Math.hypot(game.display.x - state.x, game.display.y - state.y) > 80) game.display = { x: state.x, y: state.y };
}

// MARK: Drawing

function estimatedServerTick(now) {
  if (!game.serverClock) return 0;
  return game.serverClock.tick + ((now - game.serverClock.at) / 1000) * game.tickRateHz;
}

let camera = { x: 0, y: 0, scale: 1 };
function worldToScreen(point) {
  return { x: (point.x - camera.x) * camera.scale + canvas.clientWidth / 2, y: (point.y - camera.y) * camera.scale + canvas.clientHeight / 2 };
}

function colorOf(player) { return `hsl(${(player * 137.5) % 360} 70% 60%)`; }

/** Entities at a fractional tick: players interpolated between the two snapshots around it. */
function interpolated(renderTick) {
  const buffer = game.buffer;
  if (buffer.length === 0) return [];
  let older = buffer[0], newer = buffer[buffer.length - 1];
  for (let i = 0; i < buffer.length - 1; i++) {
    if (buffer[i].tick <= renderTick && buffer[i + 1].tick >= renderTick) { older = buffer[i]; newer = buffer[i + 1]; break; }
  }
  if (renderTick > newer.tick) older = newer;
  const t = newer.tick === older.tick ? 1 : Math.min(Math.max((renderTick - older.tick) / (newer.tick - older.tick), 0), 1);
  return [...newer.byIndex.values()].map((entity) => {
    const before = older.byIndex.get(entity.index);
    if (entity.kind !== KIND.player || !before || before.generation !== entity.generation) return { ...entity, x: entity.fields[0] / 16, y: entity.fields[1] / 16 };
    return { ...entity, x: (before.fields[0] + (entity.fields[0] - before.fields[0]) * t) / 16, y: (before.fields[1] + (entity.fields[1] - before.fields[1]) * t) / 16 };
  });
}

function draw(now) {
  const ratio = devicePixelRatio || 1;
  if (canvas.width !== canvas.clientWidth * ratio || canvas.height !== canvas.clientHeight * ratio) {
    canvas.width = canvas.clientWidth * ratio;
    canvas.height = canvas.clientHeight * ratio;
  }
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.fillStyle = "#10141c";
  context.fillRect(0, 0, canvas.clientWidth, canvas.clientHeight);

  const snapshotTicks = game.tickRateHz / game.snapshotRateHz;
  // About two snapshot periods plus the measured jitter in the past, so there is nearly always a newer snapshot.
  const renderTick = estimatedServerTick(now) - (2 * snapshotTicks + 2 * game.jitterTicks + 1);
  const entities = interpolated(renderTick);
  if (game.predicted && game.display) {
    game.display.x += (game.predicted.x - game.display.x) * 0.35;
    game.display.y += (game.predicted.y - game.display.y) * 0.35;
  }
  if (game.spectator || !game.display) {
    camera = { x: game.world.width / 2, y: game.world.height / 2,
               scale: Math.min(canvas.clientWidth / game.world.width, canvas.clientHeight / game.world.height) * 0.95 };
  } else {
    camera = { x: game.display.x, y: game.display.y, scale: 1 };
  }

  // Floor grid and the world's edge.
  context.strokeStyle = "#1c2333";
  context.lineWidth = 1;
  for (let x = 0; x <= game.world.width; x += 200) line({ x, y: 0 }, { x, y: game.world.height });
  for (let y = 0; y <= game.world.height; y += 200) line({ x: 0, y }, { x: game.world.width, y });
  context.strokeStyle = "#3b4663";
  context.lineWidth = 3;
  strokeRect(0, 0, game.world.width, game.world.height);

  context.fillStyle = "#4b5568";
  for (const wall of game.obstacles) fillRect(wall.minX, wall.minY, wall.maxX - wall.minX, wall.maxY - wall.minY);

  const tickNow = Math.floor(renderTick);
  context.fillStyle = "#fde68a";
  for (const entity of entities) {
    if (entity.kind !== KIND.projectile) continue;
    const [originX, originY, aim, spawnLow] = entity.fields;
    const age = (tickNow - spawnLow) & 0xffff;
    if (age > 600) continue;
    const angle = (aim / 65536) * 2 * Math.PI;
    const p = worldToScreen({ x: originX / 16 + Math.cos(angle) * ARENA.projectileSpeed * age, y: originY / 16 + Math.sin(angle) * ARENA.projectileSpeed * age });
    circle(p.x, p.y, Math.max(ARENA.projectileRadius * camera.scale, 2.5));
  }

  for (const entity of entities) {
    if (entity.kind !== KIND.player) continue;
    const [, , aim, health, , alive, player] = entity.fields;
    if (alive === 0) continue;
    const mine = player === game.player && !game.spectator;
    const where = mine && game.display ? game.display : entity;
    const p = worldToScreen(where);
    const radius = ARENA.radius * camera.scale;
    context.fillStyle = colorOf(player);
    circle(p.x, p.y, radius);
    if (mine) { context.strokeStyle = "#ffffff"; context.lineWidth = 2; context.beginPath(); context.arc(p.x, p.y, radius + 3, 0, 2 * Math.PI); context.stroke(); }
    const angle = ((mine ? currentInput().aim : aim) / 65536) * 2 * Math.PI;
    context.strokeStyle = "#e6e9ef";
    context.lineWidth = 3;
    context.beginPath();
    context.moveTo(p.x, p.y);
    context.lineTo(p.x + Math.cos(angle) * radius * 1.6, p.y + Math.sin(angle) * radius * 1.6);
    context.stroke();
    context.fillStyle = "#7f1d1d";
    context.fillRect(p.x - radius, p.y - radius - 10, radius * 2, 4);
    context.fillStyle = "#4ade80";
    context.fillRect(p.x - radius, p.y - radius - 10, (radius * 2 * health) / 100, 4);
    if (camera.scale > 0.4) {
      context.fillStyle = "#e6e9ef";
      context.font = "12px system-ui";
      context.textAlign = "center";
      context.fillText(game.names.get(player) ?? `player ${player}`, p.x, p.y - radius - 14);
    }
  }
  drawHud(entities);
  game.stats.frames += 1;
}

function drawHud(entities) {
  const players = entities.filter((entity) => entity.kind === KIND.player)
    .map((entity) => ({ name: game.names.get(entity.fields[6]) ?? `player ${entity.fields[6]}`, score: entity.fields[4], mine: entity.fields[6] === game.player }))
    .sort((a, b) => b.score - a.score);
  const s = game.stats;
  const lines = [
    `ping        ${game.rttMs === null ? "–" : game.rttMs.toFixed(0) + " ms"}`,
    `clock       ${game.clockOffsetMs === null ? "–" : (game.clockOffsetMs >= 0 ? "+" : "") + (game.clockOffsetMs / 1000).toFixed(3) + " s"} · jitter ${game.jitterTicks.toFixed(1)} ticks`,
    `server tick ${game.newestTick ?? "–"}`,
    `snapshots   ${s.snapshotsPerSecond}/s`,
    `down / up   ${s.downKBps.toFixed(1)} / ${s.upKBps.toFixed(1)} kB/s`,
    `fps         ${s.fps}`,
    `players     ${players.length} in view`,
    "",
    ...players.slice(0, 10).map((p) => `${p.mine ? "▶ " : "  "}${p.name.slice(0, 16).padEnd(16)} ${String(p.score).padStart(4)}`),
  ];
  $("hud").textContent = lines.join("\n");
}

function line(a, b) {
  const p = worldToScreen(a), q = worldToScreen(b);
  context.beginPath(); context.moveTo(p.x, p.y); context.lineTo(q.x, q.y); context.stroke();
}
function fillRect(x, y, width, height) {
  const p = worldToScreen({ x, y });
  context.fillRect(p.x, p.y, width * camera.scale, height * camera.scale);
}
function strokeRect(x, y, width, height) {
  const p = worldToScreen({ x, y });
  context.strokeRect(p.x, p.y, width * camera.scale, height * camera.scale);
}
function circle(x, y, radius) { context.beginPath(); context.arc(x, y, radius, 0, 2 * Math.PI); context.fill(); }

// Once a second: rates for the HUD.
let last = { at: performance.now(), snapshots: 0, down: 0, up: 0, frames: 0 };
setInterval(() => {
  const now = performance.now(), seconds = (now - last.at) / 1000, s = game.stats;
  s.snapshotsPerSecond = Math.round((s.snapshots - last.snapshots) / seconds);
  s.downKBps = (s.bytesDown - last.down) / seconds / 1000;
  s.upKBps = (s.bytesUp - last.up) / seconds / 1000;
  s.fps = Math.round((s.frames - last.frames) / seconds);
  last = { at: now, snapshots: s.snapshots, down: s.bytesDown, up: s.bytesUp, frames: s.frames };
}, 1000);

function frame(now) {
  draw(now);
  requestAnimationFrame(frame);
}

// MARK: Page

$("name").value = params.get("name") ?? localStorage.getItem("tickwire.name") ?? "";
$("room").value = params.get("room") ?? "lobby";
$("watch").checked = params.get("watch") === "1";
$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  localStorage.setItem("tickwire.name", $("name").value.trim());
  game.closing = true;
  game.socket?.close(1000, "rejoining");
  game.resumeToken = null;
  connect();
});
$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("chat-input").value.trim();
  if (text) send({ type: "chat", text });
  $("chat-input").value = "";
  $("chat-input").blur();
});
addEventListener("keydown", (event) => {
  if (event.key === "Enter" && document.activeElement !== $("chat-input") && document.activeElement?.tagName !== "INPUT") {
    event.preventDefault();
    $("chat-input").focus();
  }
});
// Replay controls (`tickwire replay FILE --serve`, page opened with &replay=1): chat commands the replay room obeys.
if (params.get("replay") === "1") {
  $("replay-controls").hidden = false;
  $("replay-play").addEventListener("click", () => send({ type: "chat", text: "/play" }));
  $("replay-pause").addEventListener("click", () => send({ type: "chat", text: "/pause" }));
  $("replay-speed").addEventListener("change", () => send({ type: "chat", text: `/speed ${$("replay-speed").value}` }));
  $("replay-go").addEventListener("click", () => {
    const tick = Number($("replay-seek").value);
    if (Number.isInteger(tick) && tick >= 0) send({ type: "chat", text: `/seek ${tick}` });
  });
}
requestAnimationFrame(frame);
if (params.has("room") || params.has("name")) connect();

// MARK: Test mode (?test=1): plays through the checks the browser test needs and writes the verdict into the page.

async function runSelfTest() {
  const result = { joined: false, moved: false, chatEchoed: false, resumed: false, snapshots: 0, decodeErrors: 0, fps: 0, downKBps: 0 };
  const output = document.createElement("pre");
  output.id = "test-result";
  output.hidden = true;
  document.body.append(output);
  const until = (condition, timeoutMs) => new Promise((resolve) => {
    const started = performance.now();
    const timer = setInterval(() => {
      if (condition() || performance.now() - started > timeoutMs) { clearInterval(timer); resolve(Boolean(condition())); }
    }, 50);
  });
  result.joined = await until(() => game.state === "playing" && game.ownServer, 10000);
  const startX = game.ownServer?.x ?? 0;
  window.tickwireTestInput = () => ({ right: true, aim: 0 });
  result.moved = await until(() => game.ownServer && game.ownServer.x > startX + 40, 10000);
  window.tickwireTestInput = () => ({});
  const text = `chat-check-${Math.floor(Math.random() * 1e6)}`;
  send({ type: "chat", text });
  result.chatEchoed = await until(() => [...$("chat-log").children].some((line) => line.textContent.endsWith(text)), 5000);
  // Drop the connection (4000: an application close, which the server treats like a lost network): the page must
  // reconnect with its resume token and get the same player and avatar back.
  const player = game.player, avatarIndex = [...(game.buffer.at(-1)?.byIndex.values() ?? [])]
    .find((entity) => entity.kind === KIND.player && entity.fields[6] === player)?.index;
  const droppedSocket = game.socket;
  droppedSocket.close(4000, "test: drop");
  result.resumed = await until(() => game.socket !== droppedSocket && game.state === "playing" && game.player === player
    && [...(game.buffer.at(-1)?.byIndex.values() ?? [])].some((entity) => entity.index === avatarIndex && entity.fields[6] === player), 10000);
  // Figures over a window (?measure=S seconds, default 1.2): frames per second and bytes per second received.
  const measureMs = Math.min(Number(params.get("measure") ?? "1.2"), 60) * 1000;
  const before = { at: performance.now(), frames: game.stats.frames, down: game.stats.bytesDown, snapshots: game.stats.snapshots };
  await until(() => false, measureMs);
  const seconds = (performance.now() - before.at) / 1000;
  Object.assign(result, {
    snapshots: game.stats.snapshots, decodeErrors: game.stats.decodeErrors, measuredSeconds: Number(seconds.toFixed(1)),
    fps: Number(((game.stats.frames - before.frames) / seconds).toFixed(1)),
    downKBps: Number(((game.stats.bytesDown - before.down) / seconds / 1000).toFixed(2)),
    snapshotsPerSecond: Number(((game.stats.snapshots - before.snapshots) / seconds).toFixed(1)),
    playersInView: interpolated(estimatedServerTick(performance.now())).filter((entity) => entity.kind === KIND.player).length,
  });
  const passed = result.joined && result.moved && result.chatEchoed && result.resumed && result.decodeErrors === 0;
  output.dataset.verdict = passed ? "PASS" : "FAIL";
  output.textContent = JSON.stringify(result);
  console.log(`tickwire self-test ${output.dataset.verdict} ${output.textContent}`);
}
if (params.get("test") === "1") runSelfTest();
