// The call page: WebRTC between the people booked in a session, brokered
// by mentorbridge's signalling server at /ws. A plain module, no build step.
//
// - One RTCPeerConnection per other person (a supervisor makes it a mesh of
//   three), negotiated with "perfect negotiation": both sides may offer at
//   once; the polite one (the lower user id) gives way. To begin with,
//   though, only one side offers (see startsWith), as glare at the very
//   start sometimes left a pair never connected.
// - Students send audio and video; a supervisor only receives, until they
//   choose to speak.
// - When the socket drops, the page fetches a fresh join token and resumes
//   its place (the server replays what it missed); when a peer connection
//   fails, it restarts ICE. A banner says so meanwhile.
// - Chat goes through the server, never peer to peer, so the school's
//   filter and record apply.

import * as words from "/static/words.js";

const root = document.getElementById("call");
const sessionId = root.dataset.session;
const role = root.dataset.role;
const csrf = root.dataset.csrf;
const opensAt = new Date(root.dataset.opensAt);
const closesAt = () => new Date(root.dataset.closesAt).getTime();
const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  sid: null,
  lastSeq: 0,
  socket: null,
  leaving: false,
  ended: false,
  retry: 0,
  iceServers: [],
  needsSupervisor: false,
  roster: new Map(), // user id -> role, for everyone else in the room
  peers: new Map(), // user id -> { pc, polite, makingOffer, ignoreOffer, stream, tile }
  names: {},
  local: null,
  reported: "",
  pingTimer: null,
  inbox: Promise.resolve(),
  warnings: [], // the last few things that went wrong, for support staff
};
// For support staff and tests: the live state of this page.
window.__mentorbridge = state;

// Nothing fails unseen: whatever escapes a handler reaches the warnings
// and the status line, never only the console.
window.addEventListener("error", (e) => {
  warn("page", e.error || e.message);
  status("Something went wrong on this page. If the call stops, tap Join again or ask a teacher.");
});
window.addEventListener("unhandledrejection", (e) => {
  warn("page", e.reason);
  status("Something went wrong on this page. If the call stops, tap Join again or ask a teacher.");
});

function warn(what, e) {
  console.warn(what, e);
  state.warnings.push(`${what}: ${e?.message || e}`);
  if (state.warnings.length > 20) state.warnings.shift();
}

function status(text) {
  $("status").textContent = text;
}

function banner(text) {
  const b = $("banner");
  b.hidden = !text;
  b.textContent = text || "";
}

function send(message) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(message));
  }
}

async function joinToken() {
  const reply = await fetch(`/api/sessions/${sessionId}/join`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: "{}",
  });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) {
    throw new Error(body.error?.message || body.message || `join refused (${reply.status})`);
  }
  return body;
}

// Prefer H.264: iPads decode it in hardware.
function preferH264(transceiver) {
  if (!transceiver.setCodecPreferences || !window.RTCRtpReceiver?.getCapabilities) return;
  const caps = RTCRtpReceiver.getCapabilities("video");
  if (!caps) return;
  const h264 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === "video/h264");
  const rest = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== "video/h264");
  if (h264.length) {
    try {
      transceiver.setCodecPreferences([...h264, ...rest]);
    } catch (e) {
      warn("codec preferences", e);
    }
  }
}

function tileFor(peer, id) {
  if (peer.tile) return peer.tile;
  const figure = document.createElement("figure");
  figure.className = "tile";
  figure.dataset.peer = id;
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  video.setAttribute("playsinline", "");
  video.srcObject = peer.stream;
  const caption = document.createElement("figcaption");
  caption.textContent = state.names[id] || "";
  figure.append(video, caption);
  $("remotes").append(figure);
  peer.tile = figure;
  return figure;
}

function reportMedia() {
  // The state that counts for attendance: connected to anyone at all.
  const states = [...state.peers.values()].map((p) => p.pc.connectionState);
  const now = states.includes("connected")
    ? "connected"
    : states.includes("connecting") || states.includes("new")
      ? "connecting"
      : states.length
        ? states[0]
        : "new";
  if (now !== state.reported) {
    state.reported = now;
    send({ type: "state", pc_state: now });
  }
  if (now === "connected") {
    status("Connected.");
    banner(null);
  }
}

function mayConnect(otherRole) {
  // Without WebRTC there is no video to connect; the room, its waiting
  // screen and its chat still work.
  if (!window.RTCPeerConnection) return false;
  if (!state.needsSupervisor || role === "supervisor" || otherRole === "supervisor") return true;
  return [...state.roster.values()].includes("supervisor");
}

function updateWaiting() {
  const waiting =
    state.needsSupervisor && role !== "supervisor" && ![...state.roster.values()].includes("supervisor");
  $("waiting").hidden = !waiting;
  showRoom();
}

// Everyone in the room, watching staff included: a student always knows
// who can see and hear them.
function showRoom() {
  const list = $("in-room");
  list.replaceChildren();
  for (const [id, theirRole] of state.roster) {
    const li = document.createElement("li");
    const name = state.names[id] || "Someone";
    li.textContent = theirRole === "supervisor" ? `${name}, is watching` : `${name} is here`;
    li.className = theirRole === "supervisor" ? "watching" : "here";
    list.append(li);
  }
  $("room").hidden = !state.roster.size;
}

function peerFor(id) {
  let peer = state.peers.get(id);
  if (peer) return peer;
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  peer = {
    pc,
    polite: state.me < id,
    makingOffer: false,
    ignoreOffer: false,
    stream: new MediaStream(),
    tile: null,
  };
  state.peers.set(id, peer);
  if (state.local) {
    for (const track of state.local.getTracks()) {
      const sender = pc.addTrack(track, state.local);
      if (track.kind === "video") {
        const t = pc.getTransceivers().find((x) => x.sender === sender);
        if (t) preferH264(t);
      }
    }
  }
  pc.ontrack = ({ track }) => {
    peer.stream.addTrack(track);
    const video = tileFor(peer, id).querySelector("video");
    video.play().catch(() => {});
  };
  pc.onnegotiationneeded = async () => {
    try {
      peer.makingOffer = true;
      await pc.setLocalDescription();
      // The other side's offer may have been taken meanwhile (the polite
      // side gives way): then this offer is rolled back, and sending it
      // would only confuse the other side.
      if (pc.signalingState === "have-local-offer") {
        send({ type: "offer", sdp: pc.localDescription.sdp, to: id });
      }
    } catch (e) {
      warn("offer", e);
    } finally {
      peer.makingOffer = false;
    }
  };
  pc.onicecandidate = ({ candidate }) => {
    if (candidate) send({ type: "candidate", candidate: candidate.toJSON(), to: id });
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "failed") {
      banner("Reconnecting the video…");
      pc.restartIce();
    } else if (pc.connectionState === "disconnected") {
      banner("Reconnecting the video…");
    }
    reportMedia();
  };
  return peer;
}

function dropPeer(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  peer.pc.close();
  peer.tile?.remove();
  state.peers.delete(id);
  reportMedia();
}

// Which side starts a connection. Only one does, so that the two do not
// offer at once: browsers resolve such glare, but not always cleanly (two
// students unblocked by the same supervisor joining sometimes never
// connected). The impolite side starts; a page with nothing to send (a
// supervisor who is only watching) never does.
function startsWith(id, otherRole) {
  if (!state.local) return false;
  return otherRole === "supervisor" || !(state.me < id);
}

function connectAll() {
  for (const [id, otherRole] of state.roster) {
    if (!mayConnect(otherRole)) continue;
    if (startsWith(id, otherRole)) {
      peerFor(id);
    } else {
      // Their offer should come at once; if it has not, start anyway.
      setTimeout(() => {
        if (!state.ended && state.roster.has(id) && mayConnect(state.roster.get(id))) peerFor(id);
      }, 3000);
    }
  }
}

async function onOffer(from, sdp) {
  if (!mayConnect(state.roster.get(from))) return;
  const peer = peerFor(from);
  const pc = peer.pc;
  const collision = peer.makingOffer || pc.signalingState !== "stable";
  peer.ignoreOffer = !peer.polite && collision;
  if (peer.ignoreOffer) return;
  await pc.setRemoteDescription({ type: "offer", sdp });
  await pc.setLocalDescription();
  send({ type: "answer", sdp: pc.localDescription.sdp, to: from });
}

async function onAnswer(from, sdp) {
  const peer = state.peers.get(from);
  if (!peer) return;
  await peer.pc.setRemoteDescription({ type: "answer", sdp });
}

async function onCandidate(from, candidate) {
  const peer = state.peers.get(from);
  if (!peer) return;
  try {
    await peer.pc.addIceCandidate(candidate);
  } catch (e) {
    if (!peer.ignoreOffer) warn("candidate", e);
  }
}

// What became of one's own message, in the chat log where it was written.
function addChatNote(note) {
  const li = document.createElement("li");
  li.className = "chat-note";
  const who = document.createElement("strong");
  who.textContent = "You";
  li.append(who, document.createTextNode(`: ${state.lastChat || ""}`));
  const why = document.createElement("span");
  why.className = "state-note";
  why.textContent = note;
  li.append(document.createElement("br"), why);
  $("chat-log").append(li);
}

function addChat(from, text) {
  const li = document.createElement("li");
  const who = document.createElement("strong");
  who.textContent = from === state.me ? "You" : state.names[from] || "Someone";
  li.append(who, document.createTextNode(`: ${text}`));
  $("chat-log").append(li);
}

// The call is over for this page: say what happened, and offer what comes
// next (rejoining while the room is open and the call was not ended for
// everyone, home, and signing out to hand the iPad back).
function finish(text, { rejoin = false } = {}) {
  state.ended = true;
  clearInterval(state.pingTimer);
  for (const id of [...state.peers.keys()]) dropPeer(id);
  state.local?.getTracks().forEach((t) => t.stop());
  state.local = null;
  state.socket?.close();
  banner(null);
  $("waiting").hidden = true;
  // Nobody is "here" once the call is over for this page.
  state.roster.clear();
  $("room").hidden = true;
  for (const b of ["mute", "camera", "leave", "end", "speak"]) {
    if ($(b)) $(b).hidden = true;
  }
  // Said once, in the panel with the next steps.
  status("");
  const self = document.querySelector(".tile.self");
  if (self) self.hidden = true;
  $("after-what").textContent = text;
  $("rejoin").hidden = !rejoin;
  $("after").hidden = false;
  $("after").scrollIntoView({ block: "nearest" });
}

// A camera or microphone that would not start, in words a pupil can act
// on; the browser's own words go to the warnings.
function mediaProblem(e, again) {
  warn("camera", e);
  return words.mediaProblem(e, again);
}

// The camera and microphone, asking plainly first and again with no
// preferences if the camera cannot meet them (an older iPad's camera).
async function camera() {
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
    });
  } catch (e) {
    if (e?.name !== "OverconstrainedError" && !/constraint/i.test(e?.message || "")) throw e;
    warn("camera preferences", e);
    return navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  }
}

async function onMessage(event) {
  const m = JSON.parse(event.data);
  if (m.seq > 0) state.lastSeq = m.seq;
  switch (m.type) {
    case "welcome": {
      state.sid = m.sid;
      state.iceServers = m.ice_servers;
      state.needsSupervisor = m.needs_supervisor;
      state.retry = 0;
      clearInterval(state.pingTimer);
      // The ping says how far this page has read, so the server keeps
      // nothing older for a resume.
      state.pingTimer = setInterval(
        () => send({ type: "ping", last_seq: state.lastSeq }),
        m.ping_interval * 1000,
      );
      if (!m.resumed) {
        // A fresh place: whatever was negotiated before is gone.
        for (const id of [...state.peers.keys()]) dropPeer(id);
        state.roster = new Map(m.peers.map((p) => [p.user, p.role]));
        state.reported = "";
      }
      banner(null);
      updateWaiting();
      connectAll();
      for (const peer of state.peers.values()) {
        if (["failed", "disconnected"].includes(peer.pc.connectionState)) peer.pc.restartIce();
      }
      status(state.peers.size ? "Connecting…" : "You are in. Waiting for the others to join.");
      break;
    }
    case "peer_joined":
      state.roster.set(m.peer.user, m.peer.role);
      // Someone rejoining afresh negotiates from the start.
      dropPeer(m.peer.user);
      updateWaiting();
      connectAll();
      break;
    case "peer_left":
      state.roster.delete(m.peer);
      dropPeer(m.peer);
      updateWaiting();
      if (!state.peers.size) status("The others have left the call.");
      break;
    case "offer":
      await onOffer(m.from, m.sdp);
      break;
    case "answer":
      await onAnswer(m.from, m.sdp);
      break;
    case "candidate":
      await onCandidate(m.from, m.candidate);
      break;
    case "chat":
      addChat(m.from, m.text);
      break;
    case "ended":
      finish("A teacher ended the call for everyone. The session is over.");
      break;
    case "error":
      if (m.code === "call_ended") {
        finish("A teacher ended this call. The session is over.");
      } else if (m.code === "outside_window") {
        finish(m.message);
      } else if (["chat_held", "chat_blocked", "chat_waiting_for_supervisor"].includes(m.code)) {
        addChatNote(m.message);
      } else if (m.code === "replaced") {
        finish("This call carried on in another window or on another iPad.");
      } else {
        status(m.message);
      }
      break;
    default:
      break;
  }
}

function open(info, resume) {
  state.me = info.user_id;
  state.names = info.names;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${info.ws_path}`);
  state.socket = socket;
  socket.onopen = () => {
    const hello = { type: "hello", token: info.token };
    if (resume) hello.resume = resume;
    socket.send(JSON.stringify(hello));
  };
  // One message at a time, in order: a candidate must not be added while
  // the offer before it is still being applied, or it is lost.
  socket.onmessage = (e) => {
    state.inbox = state.inbox.then(() => onMessage(e)).catch((err) => warn("message", err));
  };
  socket.onclose = () => {
    if (state.socket !== socket || state.leaving || state.ended) return;
    clearInterval(state.pingTimer);
    banner("Reconnecting…");
    reconnect();
  };
}

async function reconnect() {
  const wait = Math.min(1000 * 2 ** state.retry, 8000);
  state.retry += 1;
  await new Promise((r) => setTimeout(r, state.retry === 1 ? 200 : wait));
  if (state.leaving || state.ended) return;
  try {
    const info = await joinToken();
    open(info, state.sid ? { sid: state.sid, last_seq: state.lastSeq } : null);
  } catch (e) {
    banner(`Reconnecting… (${e.message})`);
    reconnect();
  }
}

async function join() {
  $("join").disabled = true;
  if (!navigator.mediaDevices?.getUserMedia && role !== "supervisor") {
    status(words.NO_CALLS);
    $("join").disabled = false;
    return;
  }
  // No WebRTC (a browser without it): say so, and join for the rest.
  $("no-video").hidden = words.canCall();
  $("no-video").textContent = words.NO_CALLS;
  status("Starting…");
  try {
    if (role !== "supervisor") {
      try {
        state.local = await camera();
      } catch (e) {
        $("join").disabled = false;
        status(mediaProblem(e));
        return;
      }
      $("local").srcObject = state.local;
    }
    const info = await joinToken();
    open(info, null);
    $("join").hidden = true;
    for (const b of ["mute", "camera", "leave", "end", "speak"]) {
      if ($(b) && (state.local || !["mute", "camera"].includes(b))) $(b).hidden = false;
    }
  } catch (e) {
    warn("join", e);
    state.local?.getTracks().forEach((t) => t.stop());
    state.local = null;
    $("join").disabled = false;
    status(`${e?.message || "The call could not start."} Tap Join to try again.`);
  }
}

function toggle(kind, button, on, off) {
  const tracks = state.local?.getTracks().filter((t) => t.kind === kind) || [];
  const enabled = !tracks.every((t) => !t.enabled);
  tracks.forEach((t) => (t.enabled = !enabled));
  button.textContent = enabled ? off : on;
  button.setAttribute("aria-pressed", String(enabled));
}

$("join").addEventListener("click", join);
$("mute").addEventListener("click", (e) => toggle("audio", e.currentTarget, "Mute", "Unmute"));
$("camera").addEventListener("click", (e) => toggle("video", e.currentTarget, "Camera off", "Camera on"));
// Leave asks once: the first tap says what a second will do.
let leaveArmed = null;
$("leave").addEventListener("click", () => {
  if (!leaveArmed) {
    $("leave").textContent = "Tap again to leave";
    leaveArmed = setTimeout(() => {
      leaveArmed = null;
      $("leave").textContent = "Leave";
    }, 4000);
    return;
  }
  clearTimeout(leaveArmed);
  leaveArmed = null;
  $("leave").textContent = "Leave";
  state.leaving = true;
  send({ type: "leave" });
  finish("You left the call.", { rejoin: Date.now() < closesAt() });
});
$("rejoin").addEventListener("click", () => {
  $("after").hidden = true;
  const self = document.querySelector(".tile.self");
  if (self && role !== "supervisor") self.hidden = false;
  state.leaving = false;
  state.ended = false;
  state.sid = null;
  state.lastSeq = 0;
  $("join").hidden = false;
  join();
});
$("end")?.addEventListener("click", () => {
  if (confirm("End the call for everyone?")) send({ type: "end" });
});
$("speak")?.addEventListener("click", async () => {
  // A supervisor chooses to speak: add a microphone to every connection.
  // (The buttons are looked up by id: after an await, the click event no
  // longer has a currentTarget.)
  let mic;
  try {
    mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    status(mediaProblem(e, "tap Speak again"));
    return;
  }
  state.local = mic;
  for (const peer of state.peers.values()) {
    for (const track of mic.getTracks()) peer.pc.addTrack(track, mic);
  }
  $("speak").hidden = true;
  $("mute").hidden = false;
});
$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("chat-text");
  const text = input.value.trim();
  if (text) {
    state.lastChat = text;
    send({ type: "chat", text });
  }
  input.value = "";
});
$("worried-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const reply = await fetch(`/api/sessions/${sessionId}/concerns`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify({ text: $("worried-text").value }),
  });
  $("worried-done").hidden = !reply.ok;
  $("worried-done").textContent = reply.ok
    ? "Thank you for telling us. A safeguarding lead will look at this."
    : "That didn't go through. Please tell a teacher.";
  $("worried-done").hidden = false;
  if (reply.ok) $("worried-text").value = "";
});

// The Join button is live from when the room opens.
function gate() {
  const early = Date.now() < opensAt.getTime();
  $("join").disabled = early;
  $("join").textContent = early
    ? `Join (from ${opensAt.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })})`
    : "Join";
}
gate();
setInterval(() => {
  if (!$("join").hidden && !state.socket) gate();
}, 5000);

// A call carries on over its socket with no page requests, but a pupil's
// sign-in ends after 15 idle minutes; while this page is open it stays
// signed in, so Rejoin still works at the end of a long call.
setInterval(() => {
  fetch("/api/me", { credentials: "same-origin" }).catch((e) => warn("keeping the sign-in alive", e));
}, 5 * 60 * 1000);
