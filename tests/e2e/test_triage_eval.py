"""The triage evaluation set, end to end through the trained assistant and the action server.

A case passes when the statutory_channel slot is acceptable AND the triage answer names the
remedy AND, where the case has a running statutory clock, the deadline with its number
(tests/triage/checks.py, shared with the unit run tests/actions/triage/test_triage_cases.py).
"""

from collections import Counter

import pytest

from tests.triage.checks import failures, load_cases, report

pytestmark = pytest.mark.e2e

# Issue 10 asks 0.95: measured 0.950 (210/221) on 2026-11-27, the rules alone 0.986
# (tests/actions/triage/test_triage_cases.py, gate 0.95). The end-to-end gate keeps two cases of
# margin for a model trained from scratch; every remaining miss is an understanding error before the
# rules (docs/benchmarks.md), to be raised with issue 11.
MIN_ACCURACY = 0.954  # measured 0.964 (213/221) after issue 12; two cases of margin; docs/benchmarks.md
CASES = load_cases()


def asks_for_stage(replies) -> bool:
    return any("matter_stage" in b.get("payload", "") for r in replies for b in r.get("buttons", []))


def topic_button(replies, matter_type):
    """The button for the citizen's own matter, when the assistant offers topics to choose from."""
    wanted = f"/matter_{matter_type}"
    return next((b["payload"] for r in replies for b in r.get("buttons", []) if b.get("payload") == wanted), None)


def reply_text(replies) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def run_case(client, case):
    """-> (statutory_channel, the text of the assistant's replies after the final step)"""
    sender = client.new_sender()
    replies = client.say(sender, case["text"])
    decided = client.slot(sender, "statutory_channel") is not None
    chosen = None if decided else topic_button(replies, case["matter_type"])
    if chosen:  # the assistant was unsure and offered topics; the citizen taps their own
        replies = client.say(sender, chosen)
    # A decision already made is not undone by the “您还提到了别的事情” button of a second matter.
    if asks_for_stage(replies):
        replies = client.say(sender, case.get("stage_answer", "不知道"))
    return client.slot(sender, "statutory_channel"), reply_text(replies)


def test_statutory_channel_accuracy(client):
    assert len(CASES) >= 170
    confusion = Counter()
    results = []
    for case in CASES:
        channel, answer = run_case(client, case)
        kinds = failures(case, channel, answer)
        results.append((case, channel, kinds))
        if "channel" in kinds:
            confusion[(case["channels"][0], str(channel))] += 1
    passed = sum(1 for _, _, kinds in results if not kinds)
    accuracy = passed / len(CASES)
    summary = report(results, "triage end to end")
    print("\n" + summary)
    if confusion:
        print("confusion (expected first choice -> decided, where the channel is wrong):")
        for (expected, got), count in sorted(confusion.items()):
            print(f"  {expected:>22} -> {got}: {count}")
    assert accuracy >= MIN_ACCURACY, summary
