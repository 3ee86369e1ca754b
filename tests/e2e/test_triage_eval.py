"""The triage evaluation set, end to end through the trained assistant and the action server."""

from collections import Counter

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

MIN_ACCURACY = 0.90
CASES = yaml.safe_load((ROOT / "tests" / "triage" / "cases.yml").read_text(encoding="utf-8"))["cases"]


def asks_for_stage(replies) -> bool:
    return any("matter_stage" in b.get("payload", "") for r in replies for b in r.get("buttons", []))


def topic_button(replies, matter_type):
    """The button for the citizen's own matter, when the assistant offers topics to choose from."""
    wanted = f"/matter_{matter_type}"
    return next((b["payload"] for r in replies for b in r.get("buttons", []) if b.get("payload") == wanted), None)


def run_case(client, case) -> str:
    sender = client.new_sender()
    replies = client.say(sender, case["text"])
    chosen = topic_button(replies, case["matter_type"])
    if chosen:  # the assistant was unsure and offered topics; the citizen taps their own
        replies = client.say(sender, chosen)
    if asks_for_stage(replies):
        client.say(sender, case.get("stage_answer", "不知道"))
    return client.slot(sender, "statutory_channel")


def test_statutory_channel_accuracy(client):
    assert len(CASES) >= 60
    confusion = Counter()
    wrong = []
    for case in CASES:
        channel = run_case(client, case)
        correct = channel in case["channels"]
        confusion[(case["channels"][0], str(channel) if not correct else case["channels"][0])] += 1
        if not correct:
            wrong.append(f"  {case['channels']} <- {channel}: {case['text']}")
    accuracy = 1 - len(wrong) / len(CASES)
    print(f"\nstatutory_channel accuracy: {accuracy:.3f} ({len(CASES) - len(wrong)}/{len(CASES)})")
    print("confusion (expected first choice -> decided, where wrong):")
    for (expected, got), count in sorted(confusion.items()):
        if expected != got:
            print(f"  {expected:>22} -> {got}: {count}")
    print("\n".join(wrong))
    assert accuracy >= MIN_ACCURACY, "\n".join(wrong)
