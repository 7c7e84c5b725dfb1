"""A real HTTP server on 127.0.0.1 for tests: the MediaWiki search and extract endpoints
and a SearXNG-style JSON search over FM2's dev corpus (sentences grouped by title into
pages), with switchable fault modes.

Modes: ok, slow, 500, 429 (first ``fail_times`` requests, with Retry-After), malformed,
huge, reset, truncated, wrong_type, redirect_loop, redirect_private.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .loopback import LoopbackServer, QuietHandler

_WORD = re.compile(r"\w\w+")


def load_pages(corpus: Path) -> dict[str, str]:
    grouped: dict[str, list[str]] = defaultdict(list)
    with corpus.open() as fh:
        for line in fh:
            row = json.loads(line)
            grouped[row["title"]].append(row["text"])
    return {title: " ".join(sentences) for title, sentences in grouped.items()}


class WikiServer(LoopbackServer):
    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self._words = {t: set(_WORD.findall(f"{t} {x}".lower())) for t, x in pages.items()}
        self.mode = "ok"
        self.fail_times = 1
        self.delay = 3.0
        self.hits = 0
        self._failures = 0
        super().__init__()

    @property
    def api(self) -> str:
        return f"{self.base}/w/api.php"

    def reset(self, mode: str = "ok") -> None:
        self.mode, self.hits, self._failures = mode, 0, 0

    def search(self, query: str, limit: int) -> list[str]:
        q = set(_WORD.findall(query.lower()))
        scored = sorted(((len(q & w), t) for t, w in self._words.items()), reverse=True)
        return [t for s, t in scored[:limit] if s > 0]

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
                self.reply(status, body, content_type, headers)

            def do_GET(self):  # noqa: N802
                server.hits += 1
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if self._fault(url.path):
                    return
                if url.path == "/w/api.php":
                    self._api(query)
                elif url.path == "/search":
                    self._searxng(query)
                elif url.path.startswith("/wiki/"):
                    title = unquote(url.path[len("/wiki/"):])
                    text = server.pages.get(title)
                    if text is None:
                        return self._send(404, b"not found", "text/plain")
                    html = (f"<html><head><title>{title}</title><script>var x=1;</script></head>"
                            f"<body><nav>menu</nav><h1>{title}</h1><p>{text}</p></body></html>")
                    self._send(200, html.encode(), "text/html; charset=utf-8")
                else:
                    self._send(404, b"not found", "text/plain")

            def _fault(self, path: str) -> bool:
                mode = server.mode
                if mode == "slow":
                    time.sleep(server.delay)
                    return False
                if mode == "500":
                    self._send(500, b"boom", "text/plain")
                    return True
                if mode == "429" and server._failures < server.fail_times:
                    server._failures += 1
                    self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
                    return True
                if mode == "malformed":
                    self._send(200, b'{"query": {"search": [', "application/json")
                    return True
                if mode == "huge":
                    self._send(200, b"[" + b"0," * 3_000_000 + b"0]", "application/json")
                    return True
                if mode == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    return True
                if mode == "truncated":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b'{"query": ')
                    self.wfile.flush()
                    self.connection.close()
                    return True
                if mode == "wrong_type":
                    self._send(200, b"<html>not json</html>", "text/html")
                    return True
                if mode == "redirect_loop":
                    self._send(302, b"", "text/plain", {"Location": path})
                    return True
                if mode == "redirect_private":
                    self._send(302, b"", "text/plain", {"Location": "http://10.0.0.1/secret"})
                    return True
                return False

            def _api(self, query: dict):
                if query.get("list") == "search":
                    limit = int(query.get("srlimit", 10))
                    hits = [{"ns": 0, "title": t} for t in server.search(query.get("srsearch", ""), limit)]
                    body = {"batchcomplete": True, "query": {"search": hits}}
                elif query.get("prop") == "extracts":
                    title = query.get("titles", "")
                    page = {"title": title, "missing": True}
                    if title in server.pages:
                        page = {"pageid": abs(hash(title)) % 10**6, "ns": 0, "title": title,
                                "extract": server.pages[title]}
                    body = {"batchcomplete": True, "query": {"pages": [page]}}
                else:
                    body = {"error": {"code": "badvalue", "info": "unsupported"}}
                self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8")

            def _searxng(self, query: dict):
                titles = server.search(query.get("q", ""), 5)
                results = [{"url": f"{server.base}/wiki/{quote(t)}", "title": t,
                            "content": server.pages[t][:200]} for t in titles]
                self._send(200, json.dumps({"query": query.get("q"), "results": results}).encode(),
                           "application/json")

        return Handler
