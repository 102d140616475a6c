#!/usr/bin/python3
"""cdp.py — drives a headless Chromium over the DevTools protocol, for the
HTML view's end-to-end test (tests/e2e/test_html.sh).

    cdp.py probe URL --profile DIR [--view] [--click-row I] [--wheel]
                     [--shots DIR] [--timeout S] [--chromium PATH]

Starts Chromium with --remote-debugging-pipe (commands on its fd 3, replies
and events on its fd 4, each message JSON ending in a NUL byte: no
websocket library needed) and a fresh profile in DIR, opens URL in a new
tab, and prints one JSON object of what happened:
  requests     every URL the page asked for (the Network domain), in order
  errors       console errors, uncaught exceptions and error log entries
               (a load the page's policy refused is one of these)
  load_ms      from navigation to the load event (or, with --view, to
               window.fbview.ready), measured here
With --view the page is a fetchbench HTML view (scripts/fbhtml.py), and:
  first_paint_ms  the page's own performance.now() at its first paint
  view            "rows" or "density"; tasks: how many
  click        with --click-row I: a real mouse click (press, release) at
               the middle of row I, as the page's fbview.rowY/timeX place
               it: {"selected", "related", "chain", "changed_px"}, the
               last the number of pixels of the canvas (a screenshot of
               it alone, before and after) that changed by more than
               about 48 in some channel
  zoom         with --wheel: a wheel turn over the rows' middle:
               {"before": [t0, t1], "after": [t0, t1], "redraw_ms"}
With --shots, the screenshots (before.png, after.png, zoomed.png) are kept
in DIR.  Chromium and its children (its own process group) are ended on
exit, whatever happens.  Exit 0 when the probe ran (what it found is for
the caller to judge), 1 when the browser failed or timed out.
"""
import argparse
import base64
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
         "--no-first-run", "--no-default-browser-check", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--window-size=1280,1000")
WIDTH, HEIGHT = 1280, 1000


class Failed(Exception):
    """The browser died, refused a command or took too long."""


class Browser:
    """One Chromium process, spoken to over its debugging pipe."""

    def __init__(self, binary, profile):
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def child_fds():
            # the pipe ends first go above 4, so placing one cannot clobber the other
            a = os.dup2(to_chrome_r, 100)
            b = os.dup2(from_chrome_w, 101)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child_fds, pass_fds=(3, 4), start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next = 0
        self._replies = {}
        self.events = []
        self._cv = threading.Condition()
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cv:
                    self._closed = True
                    self._cv.notify_all()
                return
            buf += chunk
            *msgs, buf = buf.split(b"\0")
            with self._cv:
                for m in msgs:
                    msg = json.loads(m)
                    if "id" in msg:
                        self._replies[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                self._cv.notify_all()

    def send(self, method, params=None, session=None, timeout=30):
        """The result of one command; Failed on an error reply or timeout."""
        self._next += 1
        mid = self._next
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + timeout
        with self._cv:
            while mid not in self._replies:
                left = end - time.monotonic()
                if self._closed or left <= 0:
                    raise Failed(f"{method}: " + ("browser exited" if self._closed else "no reply"))
                self._cv.wait(left)
            reply = self._replies.pop(mid)
        if "error" in reply:
            raise Failed(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def wait_event(self, method, session, timeout):
        """Waits for an event of this method on session (already seen or new)."""
        end = time.monotonic() + timeout
        with self._cv:
            while True:
                if any(e["method"] == method and e.get("sessionId") == session
                       for e in self.events):
                    return
                left = end - time.monotonic()
                if self._closed or left <= 0:
                    raise Failed(f"no {method} within {timeout} s")
                self._cv.wait(left)

    def close(self):
        """Asks the browser to quit, then ends its process group."""
        try:
            if self.proc.poll() is None:
                self.send("Browser.close", timeout=5)
                self.proc.wait(timeout=5)
        except (Failed, OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass


class Page:
    """One tab, attached in flat mode."""

    def __init__(self, browser):
        self.b = browser
        tid = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.s = browser.send("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})

    def send(self, method, params=None, timeout=30):
        return self.b.send(method, params, self.s, timeout)

    def eval(self, expr, timeout=30):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True}, timeout)
        if "exceptionDetails" in r:
            raise Failed(f"{expr}: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    def mouse(self, kind, x, y, **kw):
        self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, **kw})

    def shot(self, selector=None):
        """A PNG of the viewport, or of the element selector names."""
        params = {"format": "png"}
        if selector:
            r = self.eval(f"(b => ({{x: b.left, y: b.top, width: b.width, height: b.height}}))"
                          f"(document.querySelector({json.dumps(selector)}).getBoundingClientRect())")
            params["clip"] = dict(r, scale=1)
            params["captureBeyondViewport"] = True
        return base64.b64decode(self.send("Page.captureScreenshot", params)["data"])

    def requests(self):
        return [e["params"]["request"]["url"] for e in self.b.events
                if e.get("sessionId") == self.s and e["method"] == "Network.requestWillBeSent"]

    def errors(self):
        out = []
        for e in self.b.events:
            if e.get("sessionId") != self.s:
                continue
            p = e["params"]
            if e["method"] == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append("exception: " + (d.get("exception", {}).get("description") or d.get("text", "")))
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                  for a in p["args"]))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append("log: " + p["entry"]["text"] + " " + p["entry"].get("url", ""))
        return out


def changed_pixels(a_png, b_png):
    """How many pixels differ by more than 48 in some channel."""
    from PIL import Image, ImageChops
    a = Image.open(io.BytesIO(a_png)).convert("RGB")
    b = Image.open(io.BytesIO(b_png)).convert("RGB")
    if a.size != b.size:
        return a.size[0] * a.size[1]
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 16 else 0)
    # "L" weighs the channels; > 16 there is roughly > 48 in one channel
    return sum(1 for v in diff.getdata() if v)


def probe(args):
    b = Browser(args.chromium, args.profile)
    out = {}
    try:
        page = Page(b)
        began = time.monotonic()
        page.send("Page.navigate", {"url": args.url})
        b.wait_event("Page.loadEventFired", page.s, args.timeout)
        if args.view:
            end = began + args.timeout
            while not page.eval("!!(window.fbview && window.fbview.ready)"):
                if page.errors():     # it never will be: say why, not "timed out"
                    print(json.dumps({"requests": page.requests(), "errors": page.errors()}))
                    return
                if time.monotonic() > end:
                    raise Failed(f"the view was not ready within {args.timeout} s")
                time.sleep(0.05)
        out["load_ms"] = round((time.monotonic() - began) * 1000)
        if not args.view:
            time.sleep(0.5)         # a late subresource still gets its request out
        if args.view:
            out.update(page.eval("({first_paint_ms: fbview.firstPaintMs, view: fbview.view,"
                                 " tasks: fbview.tasks})"))
            if args.click_row is not None:
                y = page.eval(f"fbview.rowY({args.click_row})")
                x = page.eval("fbview.timeX((fbview.range()[0] + fbview.range()[1]) / 2)")
                # hover first: the tooltip is in both pictures, only the click differs
                page.mouse("mouseMoved", x, y)
                page.eval("new Promise(r => requestAnimationFrame(() => r(1)))")
                before = page.shot("canvas")
                page.mouse("mousePressed", x, y, button="left", buttons=1, clickCount=1)
                page.mouse("mouseReleased", x, y, button="left", buttons=0, clickCount=1)
                page.eval("new Promise(r => requestAnimationFrame(() => r(1)))")
                after = page.shot("canvas")
                out["click"] = page.eval("({selected: fbview.selected(), related: fbview.related(),"
                                         " chain: fbview.chain()})")
                out["click"]["changed_px"] = changed_pixels(before, after)
                if args.shots:
                    for name, data in (("before", before), ("after", after)):
                        with open(os.path.join(args.shots, f"{name}.png"), "wb") as f:
                            f.write(data)
            if args.wheel:
                before = page.eval("fbview.range()")
                y = page.eval(f"fbview.rowY({(out['tasks'] - 1) // 2})")
                x = page.eval("fbview.timeX((fbview.range()[0] + fbview.range()[1]) / 2)")
                page.mouse("mouseWheel", x, y, deltaX=0, deltaY=-400)
                page.eval("new Promise(r => requestAnimationFrame(() => r(1)))")
                out["zoom"] = {"before": before, "after": page.eval("fbview.range()"),
                               "redraw_ms": page.eval("fbview.lastDrawMs()")}
                if args.shots:
                    with open(os.path.join(args.shots, "zoomed.png"), "wb") as f:
                        f.write(page.shot())
        out["requests"] = page.requests()
        out["errors"] = page.errors()
    finally:
        b.close()
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(prog="cdp.py", description=__doc__.strip(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("probe", help="open a page and report what it did")
    q.add_argument("url")
    q.add_argument("--profile", required=True, help="a fresh, empty directory")
    q.add_argument("--view", action="store_true", help="the page is a fetchbench HTML view")
    q.add_argument("--click-row", type=int)
    q.add_argument("--wheel", action="store_true")
    q.add_argument("--shots")
    q.add_argument("--timeout", type=float, default=60)
    q.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    args = p.parse_args()
    try:
        probe(args)
    except Failed as e:
        print(f"cdp.py: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
