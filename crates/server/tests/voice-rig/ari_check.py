#!/usr/bin/env python3
"""One real call through the voice rig's ARI, standard library only.

Originates a call to one of the rig's SIPp phones, plays a prompt when it is
answered, waits for the phone's key, hangs up and prints the timeline with the
Recado event each step stands for. Run through `scripts/voice-rig check
[phone]`, which passes the ARI URL and credentials in the environment.

phones: answer-dtmf (key 1, RFC 4733), answer-info (key 9, SIP INFO), busy,
no-answer, hang-up (the phone leaves during the prompt), listen.
Exit status 0 when the call went as that phone should make it go.
"""

import base64
import json
import os
import queue
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ARI = os.environ.get("RECADO_VOICE_RIG_ARI_URL", "http://127.0.0.1:8088/ari")
USER = os.environ.get("RECADO_VOICE_RIG_ARI_USER", "recado")
PASSWORD = os.environ.get("RECADO_VOICE_RIG_ARI_PASSWORD", "recado-secret")
APP = os.environ.get("RECADO_VOICE_RIG_APP", "recado")
PROMPT = os.environ.get("RECADO_VOICE_RIG_PROMPT", "sound:demo-congrats")

# What each phone should produce: the digit pressed (None: no key), whether it
# answers, and the hang-up cause Asterisk reports when it does not.
EXPECT = {
    "answer-dtmf": {"answers": True, "digit": "1"},
    "answer-info": {"answers": True, "digit": "9"},
    "hang-up": {"answers": True, "digit": None},
    "listen": {"answers": True, "digit": None},
    "busy": {"answers": False, "cause": 17},
    "no-answer": {"answers": False, "cause": 19},
}

T0 = time.monotonic()


def log(what):
    print(f"{time.monotonic() - T0:8.3f} s  {what}", flush=True)


def ari(method, path, params=None):
    url = f"{ARI}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            body = resp.read()
            return resp.status, (json.loads(body) if body else None)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


class Events:
    """The ARI event WebSocket (RFC 6455, text frames only), read on a thread."""

    def __init__(self):
        parsed = urllib.parse.urlparse(ARI)
        self.sock = socket.create_connection((parsed.hostname, parsed.port or 80), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        query = urllib.parse.urlencode({"app": APP, "api_key": f"{USER}:{PASSWORD}"})
        self.sock.sendall(
            (
                f"GET {parsed.path}/events?{query} HTTP/1.1\r\n"
                f"Host: {parsed.hostname}:{parsed.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise SystemExit("ARI closed the WebSocket handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"ARI refused the WebSocket: {head.decode(errors='replace')}")
        self.sock.settimeout(None)
        self.queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def _read(self):
        try:
            while True:
                first, second = self._exact(2)
                opcode, length = first & 0x0F, second & 0x7F
                if length == 126:
                    length = int.from_bytes(self._exact(2), "big")
                elif length == 127:
                    length = int.from_bytes(self._exact(8), "big")
                payload = self._exact(length)
                if opcode == 0x1:
                    self.queue.put(json.loads(payload))
                elif opcode == 0x9:
                    self._send(0xA, payload)
                elif opcode == 0x8:
                    return
        except (EOFError, OSError):
            return

    def next(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            return self.queue.get(timeout=left)
        except queue.Empty:
            return None


def main():
    phone = sys.argv[1] if len(sys.argv) > 1 else "answer-dtmf"
    if phone not in EXPECT:
        raise SystemExit(f"unknown phone {phone}; one of {', '.join(EXPECT)}")
    expect = EXPECT[phone]
    events = Events()
    log(f"ARI WebSocket connected ({ARI}, app {APP})")

    call_id = f"check-{uuid.uuid4().hex[:12]}"
    status, body = ari(
        "POST",
        f"/channels/{call_id}",
        {
            "endpoint": f"PJSIP/100@{phone}",
            "app": APP,
            "appArgs": "check",
            "callerId": "Recado <+34910000000>",
            "timeout": 4,
        },
    )
    if status != 200:
        raise SystemExit(f"originate → {status} {body}")
    log(f"POST /channels/{call_id} → {status}   (VOICE_SENT)")
    answered = False
    probed = False
    digit = None
    playback = None
    cause = None
    deadline = time.monotonic() + 20
    while cause is None:
        event = events.next(deadline)
        if event is None:
            raise SystemExit("no final event within 20 s")
        kind = event.get("type")
        channel = event.get("channel") or event.get("peer") or {}
        if channel.get("id") not in (call_id, None) and kind != "PlaybackFinished":
            continue
        if not probed and (kind == "StasisStart" or (kind == "ChannelStateChange" and channel.get("state") == "Ringing")):
            # While the channel lives, ARI refuses its id: a retried originate
            # cannot dial twice. (Once it has ended ARI takes the id again, so
            # the hub's own record of the call must refuse a second dial.)
            probed = True
            again, _ = ari("POST", f"/channels/{call_id}", {"endpoint": f"PJSIP/100@{phone}", "app": APP})
            log(f"POST /channels/{call_id} again → {again}   (same id while the call lives)")
        if kind == "Dial":
            log(f"Dial {event.get('dialstatus') or '(progress)'}")
        elif kind == "ChannelStateChange":
            log(f"ChannelStateChange {channel.get('state')}")
        elif kind == "StasisStart":
            answered = True
            log(f"StasisStart args={event.get('args')}   (VOICE_DELIVERED)")
            status, body = ari("POST", f"/channels/{call_id}/play", {"media": PROMPT})
            playback = body.get("id") if isinstance(body, dict) else None
            log(f"POST /channels/{call_id}/play {PROMPT} → {status}")
        elif kind == "PlaybackStarted":
            log("PlaybackStarted")
        elif kind == "PlaybackFinished":
            log("PlaybackFinished")
            if phone == "listen":
                status, _ = ari("DELETE", f"/channels/{call_id}", {"reason": "normal"})
                log(f"DELETE /channels/{call_id} → {status}")
        elif kind == "ChannelDtmfReceived":
            digit = event.get("digit")
            log(f"ChannelDtmfReceived digit={digit} duration_ms={event.get('duration_ms')}"
                f"   (VOICE_KEY_PRESSED {{key: {digit}}})")
            if playback:
                status, _ = ari("DELETE", f"/playbacks/{playback}")
                log(f"DELETE /playbacks/{playback} → {status}   (barge-in)")
            status, _ = ari("DELETE", f"/channels/{call_id}", {"reason": "normal"})
            log(f"DELETE /channels/{call_id} → {status}")
        elif kind == "ChannelDestroyed":
            cause = event.get("cause")
            log(f"ChannelDestroyed cause={cause} {event.get('cause_txt')!r}")
        elif kind == "StasisEnd":
            log("StasisEnd")

    if not answered:
        log(f"VOICE_NOT_DELIVERED (cause {cause})")
    ok = answered == expect["answers"]
    if expect["answers"]:
        ok = ok and digit == expect["digit"]
    else:
        ok = ok and cause == expect["cause"]
    print(f"{phone}: {'as expected' if ok else 'NOT as expected'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
