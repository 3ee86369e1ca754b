"""The web chat page's static server: ``python -m bot.web.serve --port 8080 [--rasa-url URL]``.

It serves ``bot/web/`` — the page (its title and privacy notice filled in from ``bureau.yml``), our
small script and stylesheet, and the chat widget copied into ``bot/web/static/`` by ``bot/web/build.js``
— and nothing else: every file the page loads comes from here, the conversation itself goes to Rasa's
socket.io channel.

Where the page finds Rasa: ``--rasa-url`` (e.g. ``https://chat.example.gov.cn`` behind a reverse proxy),
or else the host the page was loaded from, on ``--rasa-port`` (default 5005) — so the page opened at
``http://192.168.1.20:8080`` on a phone talks to ``http://192.168.1.20:5005``.

The standard library's threaded HTTP server is enough for a page of four files; in production put the
page and Rasa behind the bureau's web server (HTTPS) and pass ``--rasa-url``.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
WIDGET = STATIC_DIR / "rasa-webchat.js"
DEFAULT_PORT = 8080
DEFAULT_RASA_PORT = 5005
DEFAULT_RETENTION_DAYS = 180
NEUTRAL_NAME = "信访局"

# Our own files, by URL path. Nothing else under bot/web/ (this module, the build script) is served.
OWN_FILES = {
    "/chat.js": ("chat.js", "text/javascript; charset=utf-8"),
    "/chat.css": ("chat.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

log = logging.getLogger("bot.web.serve")


def web_command(
    port: int = DEFAULT_PORT,
    rasa_port: Optional[int] = None,
    rasa_url: Optional[str] = None,
    host: str = "0.0.0.0",
    python: str = sys.executable,
) -> List[str]:
    """The command line that starts this server (for ``scripts/assistant.py`` and the tests)."""
    command = [python, "-m", "bot.web.serve", "--host", host, "--port", str(port)]
    if rasa_url:
        command += ["--rasa-url", rasa_url]
    elif rasa_port:
        command += ["--rasa-port", str(rasa_port)]
    return command


def page_settings(bureau_path: Optional[Path] = None) -> Dict[str, object]:
    """The bureau's name and the retention period, from ``bureau.yml`` (validated as everywhere).

    A page that cannot read the file still works, with a neutral name and the default period.
    """
    try:
        from actions.bureau import config_path, load_config

        config = load_config(bureau_path or config_path())
        name = config.template_values()["bureau_name"]  # never a value still marked as a sample
        return {"bureau_name": name, "retention_days": config.privacy.retention_days}
    except Exception as error:  # noqa: BLE001 - the page must not die with a bad bureau.yml
        log.warning("bureau.yml not usable for the page (%s); using neutral defaults", error)
        return {"bureau_name": NEUTRAL_NAME, "retention_days": DEFAULT_RETENTION_DAYS}


def _origins(url: str) -> List[str]:
    """http(s) and ws(s) origins of a URL, for the page's Content-Security-Policy."""
    parts = urlsplit(url)
    secure = parts.scheme in ("https", "wss")
    return [f"{'https' if secure else 'http'}://{parts.netloc}", f"{'wss' if secure else 'ws'}://{parts.netloc}"]


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: Tuple[str, int], settings: Dict[str, object], rasa_url: Optional[str],
                 rasa_port: int) -> None:
        super().__init__(address, Handler)
        self.settings = settings
        self.rasa_url = rasa_url.rstrip("/") if rasa_url else None
        self.rasa_port = rasa_port
        template = (WEB_DIR / "index.html").read_text(encoding="utf-8")
        self.index = self._render(template).encode("utf-8")

    def _render(self, template: str) -> str:
        name = str(self.settings["bureau_name"])
        values = {
            "title": f"{name} 智能助手",
            "bureau_name": name,
            "retention_days": str(self.settings["retention_days"]),
        }
        return re.sub(r"\{\{(\w+)\}\}", lambda m: html.escape(values[m.group(1)]), template)

    def client_config(self) -> bytes:
        config = {
            "socketUrl": self.rasa_url,  # null: the page's own host on rasaPort
            "rasaPort": self.rasa_port,
            "socketPath": "/socket.io/",
            "title": f"{self.settings['bureau_name']} 智能助手",
            "bureauName": self.settings["bureau_name"],
            "retentionDays": self.settings["retention_days"],
            "initPayload": "/greet",
        }
        return f"window.CHAT_CONFIG = {json.dumps(config, ensure_ascii=False)};\n".encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    server: PageServer
    def version_string(self) -> str:
        return "chat-page"

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, self.server.index, "text/html; charset=utf-8", head, cache=False)
        elif path == "/config.js":
            self._send(HTTPStatus.OK, self.server.client_config(), "text/javascript; charset=utf-8", head,
                       cache=False)
        elif path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8", head, cache=False)
        elif path in OWN_FILES:
            name, content_type = OWN_FILES[path]
            self._send_file(WEB_DIR / name, content_type, head)
        elif path.startswith("/static/") and STATIC_NAME.match(path[len("/static/"):]):
            file = STATIC_DIR / path[len("/static/"):]
            content_type = STATIC_TYPES.get(file.suffix)
            if content_type and file.is_file():
                self._send_file(file, content_type, head)
            else:
                self._not_found(head)
        else:
            self._not_found(head)

    def _send_file(self, file: Path, content_type: str, head: bool) -> None:
        try:
            body = file.read_bytes()
        except OSError:
            self._not_found(head)
            return
        self._send(HTTPStatus.OK, body, content_type, head, cache=False)

    def _not_found(self, head: bool) -> None:
        self._send(HTTPStatus.NOT_FOUND, "找不到这个页面。\n".encode("utf-8"), "text/plain; charset=utf-8",
                   head, cache=False)

    def _content_security_policy(self) -> str:
        if self.server.rasa_url:
            rasa = _origins(self.server.rasa_url)
        else:
            host = urlsplit(f"//{self.headers.get('Host') or 'localhost'}").hostname or "localhost"
            if ":" in host:
                host = f"[{host}]"
            netloc = f"{host}:{self.server.rasa_port}"
            rasa = _origins(f"http://{netloc}") + _origins(f"https://{netloc}")
        return "; ".join([
            "default-src 'none'",
            "script-src 'self'",
            # the widget injects its stylesheets as <style> elements and sets inline styles
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",  # the widget's carousel icon font is inlined
            "connect-src 'self' " + " ".join(rasa),
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self'",
        ])

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, head: bool, cache: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=3600" if cache else "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if content_type.startswith("text/html"):
            self.send_header("Content-Security-Policy", self._content_security_policy())
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)


def make_server(host: str, port: int, rasa_url: Optional[str] = None, rasa_port: int = DEFAULT_RASA_PORT,
                bureau_path: Optional[Path] = None) -> PageServer:
    return PageServer((host, port), page_settings(bureau_path), rasa_url, rasa_port)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.web.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    parser.add_argument("--rasa-url", help="Rasa server's public URL, e.g. http://host:5005 "
                                           "(default: the page's own host on --rasa-port)")
    parser.add_argument("--rasa-port", type=int, default=DEFAULT_RASA_PORT,
                        help=f"Rasa's port on the page's host, when --rasa-url is not given "
                             f"(default: {DEFAULT_RASA_PORT})")
    parser.add_argument("--bureau-config", type=Path, help="bureau.yml to read (default: BUREAU_CONFIG or "
                                                           "the repository's bureau.yml)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APP_ENV=production: no page while bureau.yml holds sample values (the page shows the bureau's name).
    from actions.bureau import startup_check_or_exit

    startup_check_or_exit("chat page", warn=log.warning, path=args.bureau_config)
    if args.rasa_url and urlsplit(args.rasa_url).scheme not in ("http", "https"):
        parser.error("--rasa-url must start with http:// or https://")
    if not WIDGET.is_file():
        log.error("%s is missing: run `npm ci --ignore-scripts && node bot/web/build.js` (make install does); "
                  "the page will say that the chat is unavailable", WIDGET.relative_to(WEB_DIR.parent.parent))
    server = make_server(args.host, args.port, args.rasa_url, args.rasa_port, args.bureau_config)
    where = args.rasa_url or f"<page host>:{args.rasa_port}"
    log.info("chat page on http://%s:%d/ (Rasa socket.io at %s)", args.host, args.port, where)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
