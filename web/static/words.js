// What the call page and the pre-call check say when the camera or the
// browser lets a pupil down: plain words and the iPad's own steps, never
// the browser's message ("Requested device not found", WebKit's "Invalid
// constraint"), which goes to the page's warnings instead.

// Whether this browser can make calls at all.
export function canCall() {
  return Boolean(window.RTCPeerConnection && navigator.mediaDevices?.getUserMedia);
}

export const NO_CALLS =
  "This browser cannot make video calls. On an iPad, use Safari. On a computer, use a recent Chrome, Edge, Firefox or Safari.";

// What to do about a camera or microphone that would not start (`e`, what
// getUserMedia threw), ending with what to tap (`again`).
export function mediaProblem(e, again = "tap Join again") {
  switch (e?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return `The iPad is not letting this page use the camera and microphone. Open Settings, then Safari, then Camera, and choose Allow (and the same for Microphone). Then come back and ${again}.`;
    case "NotFoundError":
    case "OverconstrainedError":
      return `No camera or microphone was found. Check nothing is covering the camera, then ${again}. If it still does not work, ask a teacher.`;
    case "NotReadableError":
    case "AbortError":
      return `Another app is using the camera. Close FaceTime, the Camera app or any other video call, then ${again}.`;
    default:
      return `The camera did not start. Close other apps that use it, then ${again}. If it keeps happening, ask a teacher.`;
  }
}
