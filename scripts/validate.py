"""`rasa data validate`, failing on every warning that is not explained.

Rasa warns about responses that no story or rule names. Ours that it names are spoken by custom
actions or asked by forms, which Rasa's validator cannot see; each such warning is accepted only when
the response really is used that way:
  * its name appears in the action server's code (actions/*.py), or
  * it is ``utter_booking_refused_<reason>`` for a reason the booking service can give, or
  * it is a form's question, ``utter_ask_<slot>`` or ``utter_ask_<form>_<slot>``, or
  * it is ``utter_default``, which Rasa's ``action_default_fallback`` speaks.
Any other warning, and any error, fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNUSED_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
NOISE = ("DeprecationWarning", "pkg_resources", "declare_namespace", "jax", "MovedIn20Warning",
         "declarative_base", "Base: DeclarativeMeta")


def explained_responses() -> set[str]:
    from actions.booking.errors import Reason

    code = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").rglob("*.py"))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    names = set(domain["responses"])
    explained = {name for name in names if f'"{name}"' in code}
    explained |= {f"utter_booking_refused_{reason.value}" for reason in Reason}
    for form, spec in domain.get("forms", {}).items():
        for slot in spec["required_slots"]:
            explained |= {f"utter_ask_{slot}", f"utter_ask_{form}_{slot}"}
    explained.add("utter_default")
    return explained


def main() -> int:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate"],
        cwd=ROOT, capture_output=True, text=True,
    )
    output = result.stdout + result.stderr
    explained = explained_responses()
    problems = []
    for line in output.splitlines():
        if "Warning" not in line and "ERROR" not in line:
            continue
        if any(noise in line for noise in NOISE):
            continue
        match = UNUSED_RESPONSE.search(line)
        if match and match.group(1) in explained:
            continue
        problems.append(line.strip())
    if result.returncode != 0 and not problems:
        problems.append(f"rasa data validate exited with {result.returncode}")
    if problems:
        print(output)
        print("\nUnexplained warnings or errors:")
        print("\n".join(f"  {p}" for p in problems))
        return 1
    print("rasa data validate: no errors, no unexplained warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
