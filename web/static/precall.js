// The pre-call check: camera, microphone, and a real WebRTC connection to
// mentorbridge's own peer (which echoes a data channel), reporting whether
// it is direct or through TURN, with round-trip time and loss.

import { NO_CALLS, canCall, mediaProblem } from "/static/words.js";

const $ = (id) => document.getElementById(id);
const csrf = document.querySelector("input[name=csrf]")?.value || document.body.dataset.csrf || "";

// One step's result: passed, or failed with what to do about it.
function mark(id, ok, text) {
  const li = $(id);
  li.dataset.ok = String(ok);
  li.querySelector("span").textContent = `${ok ? "✓ passed" : "✗ not working"}: ${text}`;
}

async function camera() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { facingMode: "user" } });
    $("preview").srcObject = stream;
    const track = stream.getVideoTracks()[0];
    const s = track?.getSettings() || {};
    mark("check-camera", !!track, track ? `working (${s.width || "?"}×${s.height || "?"})` : "no camera found");
    return stream;
  } catch (e) {
    console.warn("camera", e);
    mark("check-camera", false, mediaProblem(e, "tap Check again"));
    mark("check-microphone", false, "not checked, as the camera and microphone are asked for together (see above)");
    return null;
  }
}

async function microphone(stream) {
  const track = stream?.getAudioTracks()[0];
  if (!track) {
    mark("check-microphone", false, "no microphone found");
    return;
  }
  const ctx = new AudioContext();
  await ctx.resume();
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  let loudest = 0;
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128) / 128);
    loudest = Math.max(loudest, peak);
    $("level").value = peak;
    await new Promise((r) => setTimeout(r, 50));
  }
  ctx.close();
  const heard = loudest > 0.02;
  mark("check-microphone", heard, heard ? "hearing sound" : "silent: say something, or check it is not muted");
}

async function post(path, body) {
  const reply = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify(body),
  });
  const json = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(json.error?.message || `refused (${reply.status})`);
  return json;
}

async function network() {
  const iceServers = await post("/api/precall/ice-servers", {});
  const pc = new RTCPeerConnection({ iceServers });
  const dc = pc.createDataChannel("probe");
  const opened = new Promise((resolve, reject) => {
    dc.onopen = resolve;
    setTimeout(() => reject(new Error("no connection within 10 seconds")), 10000);
  });
  await pc.setLocalDescription(await pc.createOffer());
  // Send a complete offer: wait for ICE gathering (at most 3 s).
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
    setTimeout(resolve, 3000);
  });
  const answer = await post("/api/precall", { sdp: pc.localDescription.sdp });
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  await opened;
  const sent = new Map();
  const rtts = [];
  dc.onmessage = (e) => {
    const at = sent.get(e.data);
    if (at !== undefined) {
      rtts.push(performance.now() - at);
      sent.delete(e.data);
    }
  };
  for (let i = 0; i < 50; i++) {
    const msg = `probe:${i}`;
    sent.set(msg, performance.now());
    dc.send(msg);
    await new Promise((r) => setTimeout(r, 40));
  }
  await new Promise((r) => setTimeout(r, 1500));
  // Which path did the connection take?
  let path = "direct";
  const stats = await pc.getStats();
  stats.forEach((s) => {
    if (s.type === "candidate-pair" && s.state === "succeeded" && s.nominated) {
      const local = stats.get(s.localCandidateId);
      if (local?.candidateType === "relay") path = "through the TURN relay";
    }
  });
  pc.close();
  rtts.sort((a, b) => a - b);
  const loss = Math.round(((50 - rtts.length) / 50) * 100);
  const median = rtts.length ? rtts[Math.floor(rtts.length / 2)] : NaN;
  const ok = rtts.length > 0 && loss <= 10 && median < 400;
  const li = $("check-network");
  li.dataset.rttMs = String(Math.round(median));
  li.dataset.loss = String(loss);
  li.dataset.path = path;
  mark(
    "check-network",
    ok,
    rtts.length
      ? `connected ${path}, round trip ${Math.round(median)} ms, ${loss}% lost`
      : "connected, but no messages came back",
  );
  return ok;
}

$("start").addEventListener("click", async () => {
  $("start").disabled = true;
  if (!canCall()) {
    // The browser, not the network, is what cannot make calls.
    mark("check-camera", false, NO_CALLS);
    mark("check-microphone", false, "not checked: this browser cannot make calls");
    mark("check-network", false, "not checked: this browser cannot make calls");
    $("verdict").dataset.ok = "false";
    $("verdict").textContent = NO_CALLS;
    $("start").disabled = false;
    return;
  }
  $("verdict").textContent = "Checking…";
  const stream = await camera();
  await microphone(stream);
  let net = false;
  try {
    net = await network();
  } catch (e) {
    console.warn("network", e);
    const busy = /running|wait|too many/i.test(e?.message || "");
    mark(
      "check-network",
      false,
      busy
        ? `${e.message}`
        : "could not connect to mentorbridge the way a call does. The school's network may block calls: ask the school's IT team to allow mentorbridge and its TURN relay (port 443). Then tap Check again.",
    );
  }
  stream?.getTracks().forEach((t) => t.stop());
  const ok = ["check-camera", "check-microphone", "check-network"].every((id) => $(id).dataset.ok === "true");
  $("verdict").dataset.ok = String(ok && net);
  $("verdict").textContent = ok
    ? "✓ This iPad is ready for mentoring."
    : "Something needs fixing before the first session: each step above says what to do.";
  $("start").disabled = false;
  $("start").textContent = "Check again";
});
