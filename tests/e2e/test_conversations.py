"""Scripted multi-turn conversations against the real assistant (tests/e2e/conversations.yml, issue 12).

Each conversation fails on a repeated long reply, a form that does not let go, a pending answer
overridden, or a reply to another question; `pytest -s` prints each conversation's turns to its goal
and, at the end, the counts by kind."""

from collections import Counter
from typing import Any, Dict, List

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

CONVERSATIONS = yaml.safe_load((ROOT / "tests" / "e2e" / "conversations.yml").read_text(encoding="utf-8"))[
    "conversations"]
LONG_REPLY = 80  # characters: a reply this long is never said twice in one conversation
TALLY: Counter = Counter()


def text_of(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def play(client, conversation: Dict[str, Any]) -> Dict[str, Any]:
    """Plays the turns; returns the problems by kind and the turn the goal was reached at."""
    citizen = client.new_sender()
    problems: Dict[str, List[str]] = {"repeat": [], "trap": [], "override": [], "wrong": []}
    long_replies: Counter = Counter()
    goal_turn = None
    for number, turn in enumerate(conversation["turns"], start=1):
        replies = client.say(citizen, turn["say"])
        said = text_of(replies)
        where = f"turn {number} {turn['say']!r} -> {said[:160]!r}"
        texts = [reply.get("text", "") for reply in replies if reply.get("text")]
        if len(set(texts)) < len(texts):
            problems["repeat"].append(f"{where}: the same message twice in one turn")
        for reply in replies:
            text = reply.get("text", "")
            if len(text) >= LONG_REPLY:
                long_replies[text] += 1
                if long_replies[text] == 2:
                    problems["repeat"].append(where)
        missing = [word for word in turn.get("expect", []) if word not in said]
        if turn.get("expect_any") and not any(word in said for word in turn["expect_any"]):
            missing.append(f"one of {turn['expect_any']}")
        wrong = [word for word in turn.get("never", []) if word in said]
        if missing or wrong:
            kind = "override" if turn.get("pending") else "wrong"
            problems[kind].append(f"{where}: missing {missing}, should not say {wrong}")
        if turn.get("leaves") and client.tracker(citizen).get("active_loop", {}).get("name"):
            problems["trap"].append(f"{where}: the form is still active")
        if turn.get("goal") and goal_turn is None and not (missing or wrong):
            goal_turn = number
    return {"problems": problems, "goal_turn": goal_turn, "turns": len(conversation["turns"])}


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["name"] for c in CONVERSATIONS])
def test_conversation_goes_forward(client, conversation):
    result = play(client, conversation)
    found = {kind: items for kind, items in result["problems"].items() if items}
    for kind, items in result["problems"].items():
        TALLY[kind] += len(items)
    TALLY["reached"] += result["goal_turn"] is not None
    TALLY["turns to goal"] += result["goal_turn"] or 0
    print(f"\n{conversation['name']}: goal reached at turn {result['goal_turn']} of {result['turns']}")
    assert not found, found


def test_there_are_enough_conversations():
    assert len(CONVERSATIONS) >= 20
    assert all(any(t.get("goal") for t in c["turns"]) for c in CONVERSATIONS)


def teardown_module(module):
    if TALLY:
        print(f"\nconversations: {TALLY['reached']}/{len(CONVERSATIONS)} reached their goal, "
              f"{TALLY['turns to goal'] / max(TALLY['reached'], 1):.1f} turns on average; "
              f"repeats {TALLY['repeat']}, traps {TALLY['trap']}, overrides {TALLY['override']}, "
              f"wrong answers {TALLY['wrong']}")
