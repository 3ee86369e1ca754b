import re

import pytest
import yaml
from pydantic import ValidationError

from actions.bureau import DEFAULT_PATH, load_config
from tests.conftest import ROOT


def raw_config() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def write(tmp_path, data) -> str:
    path = tmp_path / "bureau.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_shipped_config_loads():
    config = load_config(DEFAULT_PATH)
    assert config.lawyer_sessions.weekday_numbers == [2, 4]  # Wednesday and Friday
    assert config.lawyer_sessions.days_zh == "每周三、周五"
    assert config.lawyer_sessions.lawyers_per_day == 2


def test_every_placeholder_in_the_domain_has_a_value():
    """A placeholder is a bureau fact, or a value the action speaking the response passes."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    placeholders = set(re.findall(r"\{(\w+)\}", yaml.safe_dump(domain["responses"], allow_unicode=True)))
    facts = set(load_config(DEFAULT_PATH).template_values())
    assert {"bureau_phone", "bureau_address", "online_url"} <= placeholders & facts
    actions_code = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
    passed_by_actions = {name for name in placeholders if f"{name}=" in actions_code}
    assert placeholders <= facts | passed_by_actions, placeholders - facts - passed_by_actions


def test_bureau_config_env_var_selects_another_file(tmp_path, monkeypatch):
    data = raw_config()
    data["bureau"]["phone"] = "0999-7654321"
    monkeypatch.setenv("BUREAU_CONFIG", write(tmp_path, data))
    assert load_config().bureau.phone == "0999-7654321"


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("lawyer_sessions", "weekdays", ["wensday"]),
        ("lawyer_sessions", "lawyers_per_day", 0),
        ("lawyer_sessions", "slot_minutes", -30),
        ("bureau", "unexpected_field", "x"),
    ],
)
def test_mistakes_fail_loudly(tmp_path, section, key, value):
    data = raw_config()
    data[section][key] = value
    with pytest.raises(ValidationError):
        load_config(write(tmp_path, data))


def test_period_must_end_after_it_starts(tmp_path):
    data = raw_config()
    data["lawyer_sessions"]["periods"][0]["end"] = "08:00"
    with pytest.raises(ValidationError):
        load_config(write(tmp_path, data))


def test_no_fact_of_the_bureau_is_hard_coded_in_responses_or_training_data():
    config = load_config(DEFAULT_PATH)
    own_facts = [config.bureau.phone, config.bureau.address, config.bureau.online_petition.url]
    domain = (ROOT / "domain.yml").read_text(encoding="utf-8")
    training = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "data").rglob("*.yml"))
    for fact in own_facts:
        assert fact not in domain and fact not in training, fact
    # Citizens may mention a hotline in what they write; our answers take every number from the file.
    for number in config.hotlines.dict().values():
        assert not re.search(rf"(?<!\d){number}(?!\d)", domain), f"{number} is hard-coded in domain.yml"
