"""800 sign-ins against a running mentorbridge demo, 50 at a time, then the
server's resident memory (VmRSS) before, at the peak and 10 s after."""
import json, sys, time, threading, urllib.request
from concurrent.futures import ThreadPoolExecutor

base, pid = sys.argv[1], int(sys.argv[2])
users = sys.argv[3].split(",")
password = sys.argv[4]

def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

peak = [0]
stop = False
def watch():
    while not stop:
        peak[0] = max(peak[0], rss())
        time.sleep(0.05)

def sign_in(i):
    body = json.dumps({"username": users[i % len(users)], "password": password}).encode()
    req = urllib.request.Request(base + "/api/session", data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code

before = rss()
t = threading.Thread(target=watch); t.start()
start = time.time()
with ThreadPoolExecutor(50) as ex:
    codes = list(ex.map(sign_in, range(800)))
took = time.time() - start
time.sleep(10)
stop = True; t.join()
after = rss()
print(json.dumps({"ok": codes.count(200), "other": len(codes) - codes.count(200), "seconds": round(took, 1),
                  "rss_before_mib": round(before / 1024), "rss_peak_mib": round(peak[0] / 1024), "rss_after_mib": round(after / 1024)}))
