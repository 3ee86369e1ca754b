"""The chat page's static server: the page with the bureau's facts, our files and the widget, nothing
else, and a Content-Security-Policy that lets the page load only from itself and talk only to Rasa."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from bot.web import serve
from tests.conftest import ROOT


@pytest.fixture
def start(tmp_path):
    servers = []

    def start_server(rasa_url=None, rasa_port=5005, bureau=None):
        bureau_path = None
        if bureau is not None:
            bureau_path = tmp_path / "bureau.yml"
            bureau_path.write_text(bureau, encoding="utf-8")
        server = serve.make_server("127.0.0.1", 0, rasa_url=rasa_url, rasa_port=rasa_port, bureau_path=bureau_path)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start_server
    for server in servers:
        server.shutdown()
        server.server_close()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8")


def other_county(name: str, retention_days: int) -> str:
    config = yaml.safe_load((ROOT / "bureau.yml").read_text(encoding="utf-8"))
    config["bureau"]["name"] = name
    config["privacy"]["retention_days"] = retention_days
    return yaml.safe_dump(config, allow_unicode=True)


def test_the_page_carries_the_bureau_name_and_the_retention_period(start):
    url = start(bureau=other_county("青山县信访局", 90))
    status, headers, page = get(url + "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>青山县信访局 智能助手</title>" in page
    assert "90 天" in page
    assert "{{" not in page
    status, _, config = get(url + "/config.js")
    settings = json.loads(config.split("=", 1)[1].strip().rstrip(";"))
    assert settings["bureauName"] == "青山县信访局" and settings["retentionDays"] == 90
    assert settings["initPayload"] == "/greet"


def test_the_default_bureau_file(start):
    _, _, page = get(start() + "/")
    assert "<title>县信访局 智能助手</title>" in page and "180 天" in page


def test_a_broken_bureau_file_gives_a_neutral_page(start):
    _, _, page = get(start(bureau="bureau: [not, valid") + "/")
    assert "<title>信访局 智能助手</title>" in page and "180 天" in page


def test_the_bureau_name_is_escaped(start):
    _, _, page = get(start(bureau=other_county("<script>x</script>县信访局", 30)) + "/")
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_rasa_on_the_pages_host_or_at_a_given_address(start):
    _, headers, _ = get(start(rasa_port=16005) + "/")
    policy = headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:16005 ws://127.0.0.1:16005" in policy
    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    _, _, config = get(start(rasa_port=16005) + "/config.js")
    assert '"socketUrl": null' in config and '"rasaPort": 16005' in config

    url = start(rasa_url="https://chat.example.gov.cn/")
    _, headers, _ = get(url + "/")
    assert "connect-src 'self' https://chat.example.gov.cn wss://chat.example.gov.cn;" in headers[
        "Content-Security-Policy"]
    _, _, config = get(url + "/config.js")
    assert '"socketUrl": "https://chat.example.gov.cn"' in config


def test_only_the_pages_files_are_served(start):
    url = start()
    for path in ("/chat.js", "/chat.css", "/favicon.svg", "/healthz"):
        assert get(url + path)[0] == 200, path
    assert get(url + "/chat.js")[1]["Content-Type"] == "text/javascript; charset=utf-8"
    for path in ("/serve.py", "/build.js", "/__init__.py", "/static/../serve.py", "/static/%2e%2e/serve.py",
                 "/static/.hidden", "/static/", "/../bureau.yml", "/index.html/../serve.py", "/nothing"):
        status, _, _ = get(url + path)
        assert status == 404, path


def test_the_widget_is_served_without_outside_fonts(start):
    # `make install` builds it; a test suite without it would skip the chat page's heart.
    assert serve.WIDGET.is_file(), "the widget is not built: make install (npm ci; node bot/web/build.js)"
    status, headers, bundle = get(start() + "/static/rasa-webchat.js")
    assert status == 200 and headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "window" in bundle and "fonts.googleapis.com" not in bundle
    assert (Path(serve.STATIC_DIR) / "rasa-webchat.LICENSE").is_file()


def test_the_command_line():
    command = serve.web_command(port=8080, rasa_port=5005, host="127.0.0.1", python="python")
    assert command == ["python", "-m", "bot.web.serve", "--host", "127.0.0.1", "--port", "8080",
                       "--rasa-port", "5005"]
    command = serve.web_command(port=8080, rasa_url="https://chat.example.gov.cn", python="python")
    assert command[-2:] == ["--rasa-url", "https://chat.example.gov.cn"]
