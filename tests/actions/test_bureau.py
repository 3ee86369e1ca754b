import os
import re
import subprocess
import sys

import pytest
import yaml
from pydantic import ValidationError

from actions.bureau import DEFAULT_PATH, NEUTRAL_PHRASES, SampleValuesError, ensure_startable, get_config, load_config
from tests.bureau_files import CONFIGURED, configured
from tests.bureau_files import write as write_file
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
    passed_by_actions = {name for name in placeholders if f"{name}=" in actions_code or f'"{name}"' in actions_code}
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


# --- sample values --------------------------------------------------------------------------------

SHIPPED_SAMPLE_KEYS = {"bureau.address", "bureau.directions", "bureau.reception_hours", "bureau.weekend",
                       "bureau.phone", "bureau.mail_address"}


def test_the_shipped_file_marks_its_sample_values():
    config = load_config(DEFAULT_PATH)
    assert set(config.samples) == SHIPPED_SAMPLE_KEYS
    assert config.bureau.phone == "0000-1234567" == config.samples["bureau.phone"]  # read as plain values
    assert config.sample_keys() == {"bureau_address", "bureau_directions", "bureau_hours", "bureau_weekend",
                                    "bureau_phone", "bureau_mail_address"}


def test_template_values_never_give_a_sample():
    config = load_config(DEFAULT_PATH)
    values = config.template_values()
    for key in config.sample_keys():
        assert values[key] == NEUTRAL_PHRASES[key]
    for sample in config.samples.values():
        assert sample not in values.values()
    assert config.file_template_values()["bureau_phone"] == "0000-1234567"
    assert values["hotline_legal_services"] == "12348" and values["online_url"] == config.bureau.online_petition.url


def test_a_value_written_plainly_is_the_bureau_s_own(tmp_path):
    config = load_config(write_file(tmp_path / "bureau.yml", configured()))
    assert config.samples == {} and config.sample_keys() == set()
    assert config.template_values()["bureau_phone"] == CONFIGURED["phone"]
    data = configured()
    data["bureau"]["phone"] = {"sample": "0571-88886666"}  # edited inside the marker: still a sample
    config = load_config(write_file(tmp_path / "bureau.yml", data))
    assert config.samples == {"bureau.phone": "0571-88886666"}
    assert config.template_values()["bureau_phone"] == NEUTRAL_PHRASES["bureau_phone"]


def test_a_sample_replies_cannot_do_without_fails_to_load(tmp_path):
    data = configured()
    data["hotlines"]["police"] = {"sample": "110"}
    with pytest.raises(ValueError, match="hotline_police"):
        load_config(write_file(tmp_path / "bureau.yml", data))


def test_a_malformed_sample_marker_fails_to_load(tmp_path):
    path = tmp_path / "bureau.yml"
    # {sample: 0571-1, 分机 2} written without quotes: YAML reads a second key
    path.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace(
        'phone: {sample: "0000-1234567"}', "phone: {sample: 0571-1, 2: x}"), encoding="utf-8")
    with pytest.raises(ValueError, match="bureau.phone"):
        load_config(path)


def test_outside_production_one_warning_lists_each_sample(monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    warnings = []
    config = ensure_startable("test", warn=warnings.append, path=DEFAULT_PATH)
    assert config.samples and len(warnings) == 1
    for key, value in config.samples.items():
        assert f"{key}: {value}" in warnings[0]


def test_in_production_nothing_starts_with_samples(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(SampleValuesError) as refused:
        ensure_startable("test", warn=pytest.fail, path=DEFAULT_PATH)
    for key in SHIPPED_SAMPLE_KEYS:
        assert key in str(refused.value)
    monkeypatch.setenv("BUREAU_CONFIG", str(DEFAULT_PATH))
    get_config.cache_clear()
    try:
        with pytest.raises(SampleValuesError):
            get_config()  # whoever asks
    finally:
        get_config.cache_clear()
    configured_file = write_file(tmp_path / "bureau.yml", configured())
    assert not ensure_startable("test", warn=pytest.fail, path=configured_file).samples


def _production(**extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "production", "BUREAU_CONFIG": str(DEFAULT_PATH),
           **extra}
    return env


def _refused(command, env, timeout=120):
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    for key in SHIPPED_SAMPLE_KEYS:
        assert key in output, output
    assert "APP_ENV=production" in output
    return done


def test_the_action_server_refuses_to_start_in_production(tmp_path):
    from tests.bot.channels.fake_wechat import free_port

    env = _production(DATABASE_URL=f"sqlite:///{tmp_path / 'bookings.sqlite3'}")
    done = _refused([sys.executable, "-m", "actions.server", "--port", str(free_port())], env)
    assert done.returncode == 1


def test_the_action_server_starts_in_production_once_configured(tmp_path):
    import time
    import urllib.request

    from tests.bot.channels.fake_wechat import free_port

    port = free_port()
    env = _production(DATABASE_URL=f"sqlite:///{tmp_path / 'bookings.sqlite3'}",
                      BUREAU_CONFIG=str(write_file(tmp_path / "bureau.yml", configured())))
    process = subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.communicate()[0].decode()
                assert time.monotonic() < deadline, "the action server did not start"
                time.sleep(0.3)
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert "sample" not in output


def test_the_rasa_server_refuses_to_start_in_production(tmp_path):
    """No model is needed: the facts are checked as Rasa creates its tracker store and response
    generator (bot/nlg.py), before it loads a model or listens."""
    from tests.bot.channels.fake_wechat import free_port

    _refused([sys.executable, "-m", "rasa", "run", "--enable-api", "--auth-token", "t", "--port", str(free_port()),
              "--endpoints", str(ROOT / "endpoints.yml"), "--credentials", str(ROOT / "credentials.yml")],
             _production(RASA_TELEMETRY_ENABLED="false"), timeout=300)


def test_the_staff_tool_make_run_and_the_chat_page_refuse_in_production(tmp_path):
    from tests.bot.channels.fake_wechat import free_port

    env = _production(DATABASE_URL=f"sqlite:///{tmp_path / 'bookings.sqlite3'}")
    assert _refused([sys.executable, "-m", "actions.admin", "closures"], env).returncode == 2
    _refused([sys.executable, str(ROOT / "scripts" / "run.py")], env)  # before starting anything
    _refused([sys.executable, "-m", "bot.web.serve", "--port", str(free_port())], env)


def test_deployment_files_set_production():
    for name in ("compose.yml", "Dockerfile.rasa", "Dockerfile.actions", "helm/values.yml",
                 "helm/actions-values.yml", "helm/chat-page.yml"):
        text = (ROOT / "deploy" / name).read_text(encoding="utf-8")
        assert re.search(r"APP_ENV[=:]\s*\"?production|name: APP_ENV[^\n]*\n\s+value: \"production\"", text), name
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yml").read_text(encoding="utf-8"))
    for service in ("actions-1", "rasa-1", "migrate"):
        spec = compose["services"][service]
        assert spec["environment"]["APP_ENV"] == "production", service
