"""`make run`: start the assistant on the embedded defaults and stop everything on Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actions.bureau import startup_check_or_exit  # noqa: E402
from scripts.assistant import ROOT, Assistant  # noqa: E402


def main() -> int:
    # bureau.yml's sample values: with APP_ENV=production a refusal naming them (exit status 1) before
    # anything starts; otherwise one warning listing them, under the addresses (the servers repeat it
    # in their logs).
    warnings: list = []
    startup_check_or_exit("make run", warn=warnings.append)
    log_dir = ROOT / "logs"
    print("Starting the action server, the Rasa server and the web page (loading the model takes a little while) ...")
    started = time.monotonic()
    assistant = Assistant(log_dir=log_dir, web_port=8080)
    assistant.start()
    print(
        f"\n信访助手 is ready after {time.monotonic() - started:.0f} s.\n"
        f"  web chat:  http://localhost:{assistant.web_port}/   (on a phone in the same network: this machine's address)\n"
        f"  REST:      POST {assistant.rasa_url}/webhooks/rest/webhook  {{\"sender\": \"me\", \"message\": \"你好\"}}\n"
        f"  socket.io: {assistant.rasa_url}/socket.io\n"
        f"  terminal:  .venv/bin/rasa shell   (in another terminal)\n"
        f"  logs:      {log_dir}/\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    for warning in warnings:
        print(f"\nWARNING: {warning}\n", file=sys.stderr, flush=True)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        if any(p.poll() is not None for p in assistant.processes.values()):
            print(f"A process stopped unexpectedly; see {log_dir}/", file=sys.stderr)
            break
        time.sleep(0.5)
    print("Stopping ...")
    assistant.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
