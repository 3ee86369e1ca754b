"""The bureau's facts, loaded from the one configuration file operators edit (``bureau.yml``).

``BUREAU_CONFIG`` points at another file (tests, a second county); by default the file at the
repository root is used. The file is validated on load so that a typo fails loudly at start-up
instead of putting a wrong phone number in front of a citizen.

Sample values: a value written ``{sample: "0000-1234567"}`` in the file was shipped with the
assistant and is not the bureau's fact. It loads as its plain value (``config.bureau.phone`` is
``"0000-1234567"``) and is listed in ``config.samples``; ``template_values()`` gives, in its place, the
neutral wording of ``NEUTRAL_PHRASES`` (“当地信访部门公布的号码”), so that no reply ever shows it.
Every process calls ``ensure_startable()`` (or ``startup_check_or_exit()``) as it starts: with
``APP_ENV=production`` it refuses to start while a sample value remains, otherwise it warns once.

Templates are filled with ``fill_template()``, which raises ``UnfilledPlaceholder`` rather than let a
``{placeholder}`` reach a citizen.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Set, Tuple

import yaml
from pydantic import BaseModel, Field, PrivateAttr, validator

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "bureau.yml"

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_NAMES_ZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]

APP_ENV = "APP_ENV"          # "production": no process starts while a sample value remains
SAMPLE_MARKER = "sample"     # bureau.yml writes a sample value as {sample: VALUE}

# Where each template value comes from in the file (a dotted path; a sample at or under it makes the
# template value a sample too).
TEMPLATE_SOURCES: Dict[str, str] = {
    "bureau_name": "bureau.name",
    "bureau_address": "bureau.address",
    "bureau_directions": "bureau.directions",
    "bureau_hours": "bureau.reception_hours",
    "bureau_weekend": "bureau.weekend",
    "bureau_phone": "bureau.phone",
    "bureau_mail_address": "bureau.mail_address",
    "online_name": "bureau.online_petition.name",
    "online_url": "bureau.online_petition.url",
    "online_mobile": "bureau.online_petition.mobile",
    "progress_query": "bureau.progress_query",
    "lawyer_days": "lawyer_sessions.weekdays",
    "lawyer_hours": "lawyer_sessions.periods",
    "lawyers_per_day": "lawyer_sessions.lawyers_per_day",
    "booking_window_days": "lawyer_sessions.booking_window_days",
}

# What a reply says in place of a fact that is still a sample. Each phrase reads naturally wherever its
# placeholder stands in domain.yml and actions/triage/rules.yml: after 拨打/打 and after “电话：”
# (bureau_phone), after 到/在/地点：/来访： (bureau_address), after 接待时间 (bureau_hours) ...
NEUTRAL_PHRASES: Dict[str, str] = {
    "bureau_name": "信访局",
    "bureau_address": "当地信访部门的接待场所",
    "bureau_directions": "可以用手机地图搜索当地信访局，按导航前往",
    "bureau_hours": "以公布的为准",
    "bureau_weekend": "周末和法定节假日是否接待来访，以公布的为准；网上信访和来信随时都可以提交",
    "bureau_phone": "当地信访部门公布的号码",
    "bureau_mail_address": "当地信访部门公布的来信地址",
    "online_name": "网上信访平台",
    "online_url": "当地信访部门公布的网址",
    "online_mobile": "手机上也可以通过本省信访的微信公众号或小程序提交",
    "progress_query": "凭提交时得到的查询码，在网上信访平台查看办理进度和答复",
}

PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A sentence: up to and including its end mark, or a line.
_SENTENCE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+[”」）)]*\n?|\n|$)")


class _Strict(BaseModel):
    class Config:
        extra = "forbid"
        allow_mutation = False


class OnlinePetition(_Strict):
    name: str
    url: str
    mobile: str


class Bureau(_Strict):
    name: str
    address: str
    directions: str
    reception_hours: str
    weekend: str
    phone: str
    mail_address: str
    online_petition: OnlinePetition
    progress_query: str


class Hotlines(_Strict):
    government_service: str
    legal_services: str
    procuratorate: str
    human_resources: str
    market_regulation: str
    environment: str
    health: str
    discipline: str
    police: str
    ambulance: str
    crisis: str


class Period(_Strict):
    name: str
    start: dt.time
    end: dt.time

    @validator("end")
    def _ends_after_start(cls, end: dt.time, values: Dict) -> dt.time:
        if "start" in values and end <= values["start"]:
            raise ValueError("a period must end after it starts")
        return end


class LawyerSessions(_Strict):
    weekdays: List[str]
    periods: List[Period] = Field(..., min_items=1)
    slot_minutes: int = Field(..., gt=0, le=240)
    lawyers_per_day: int = Field(..., gt=0)
    booking_window_days: int = Field(..., gt=0)
    cutoff_minutes: int = Field(..., ge=0)
    max_active_bookings_per_phone: int = Field(..., gt=0)
    max_bookings_per_phone_per_day: int = Field(..., gt=0)
    closures: Dict[dt.date, str] = Field(default_factory=dict)

    @validator("weekdays", each_item=True)
    def _known_weekday(cls, day: str) -> str:
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}; use one of {WEEKDAYS}")
        return day

    @property
    def weekday_numbers(self) -> List[int]:
        """Python weekday numbers (Monday is 0) of the lawyer days."""
        return sorted(WEEKDAYS.index(day) for day in self.weekdays)

    @property
    def days_zh(self) -> str:
        """The lawyer days as a citizen reads them, e.g. ``每周三、周五``."""
        names = [WEEKDAY_NAMES_ZH[n].replace("星期", "周") for n in self.weekday_numbers]
        return "每" + "、".join(names)

    @property
    def hours_zh(self) -> str:
        return "，".join(
            f"{p.name}{p.start:%H:%M}—{p.end:%H:%M}" for p in self.periods
        )


class Privacy(_Strict):
    retention_days: int = Field(..., gt=0)


class BureauConfig(_Strict):
    bureau: Bureau
    hotlines: Hotlines
    lawyer_sessions: LawyerSessions
    privacy: Privacy

    _samples: Dict[str, Any] = PrivateAttr(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        samples: Dict[str, Any] = {}
        super().__init__(**_unwrap_samples(data, "", samples))
        self._samples = samples
        unspeakable = sorted(self.sample_keys() - set(NEUTRAL_PHRASES))
        if unspeakable:
            raise ValueError(
                "these values are marked as samples, but replies cannot do without them: "
                + ", ".join(f"{{{key}}}" for key in unspeakable)
                + "; write the bureau's own value"
            )

    @property
    def samples(self) -> Dict[str, Any]:
        """The values still marked ``{sample: ...}``, by dotted path (``bureau.phone``)."""
        return dict(self._samples)

    def sample_keys(self) -> Set[str]:
        """Template keys (``bureau_phone`` ...) whose value is still a sample."""
        sources = {**TEMPLATE_SOURCES, **{f"hotline_{name}": f"hotlines.{name}" for name in Hotlines.__fields__}}
        return {
            key for key, source in sources.items()
            if any(path == source or path.startswith(source + ".") for path in self._samples)
        }

    def template_values(self) -> Dict[str, str]:
        """Flat values for filling response templates, e.g. ``{bureau_phone}``: the bureau's facts,
        with the neutral wording of ``NEUTRAL_PHRASES`` in place of each value still a sample."""
        values = self.file_template_values()
        values.update({key: NEUTRAL_PHRASES[key] for key in self.sample_keys()})
        return values

    def file_template_values(self) -> Dict[str, str]:
        """The template values as written in the file, samples included: never for a reply."""
        b, h, s = self.bureau, self.hotlines, self.lawyer_sessions
        values = {
            "bureau_name": b.name,
            "bureau_address": b.address,
            "bureau_directions": b.directions,
            "bureau_hours": b.reception_hours,
            "bureau_weekend": b.weekend,
            "bureau_phone": b.phone,
            "bureau_mail_address": b.mail_address,
            "online_name": b.online_petition.name,
            "online_url": b.online_petition.url,
            "online_mobile": b.online_petition.mobile,
            "progress_query": b.progress_query,
            "lawyer_days": s.days_zh,
            "lawyer_hours": s.hours_zh,
            "lawyers_per_day": str(s.lawyers_per_day),
            "booking_window_days": str(s.booking_window_days),
        }
        values.update({f"hotline_{name}": number for name, number in h.dict().items()})
        return values


def _unwrap_samples(node: Any, path: str, found: Dict[str, Any]) -> Any:
    """``node`` with every ``{sample: VALUE}`` replaced by ``VALUE``; their paths go into ``found``."""
    if isinstance(node, dict):
        if SAMPLE_MARKER in node:
            if len(node) != 1:
                raise ValueError(
                    f"{path or 'bureau.yml'}: a sample is written {{{SAMPLE_MARKER}: \"VALUE\"}} alone "
                    f"(quote a value that holds a comma or a colon); found keys {sorted(map(str, node))}"
                )
            found[path] = node[SAMPLE_MARKER]
            return node[SAMPLE_MARKER]
        return {key: _unwrap_samples(value, f"{path}.{key}" if path else str(key), found)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_unwrap_samples(value, f"{path}.{index}", found) for index, value in enumerate(node)]
    return node


def config_path() -> Path:
    return Path(os.environ.get("BUREAU_CONFIG") or DEFAULT_PATH)


def load_config(path: Path | str | None = None) -> BureauConfig:
    """Read and validate a bureau configuration file (samples allowed; see ``ensure_startable``)."""
    path = Path(path) if path else config_path()
    with open(path, encoding="utf-8") as handle:
        return BureauConfig.parse_obj(yaml.safe_load(handle))


@lru_cache(maxsize=1)
def _load_process_config() -> BureauConfig:
    return load_config()


def get_config() -> BureauConfig:
    """The configuration of this process, read once. With ``APP_ENV=production`` a file that still
    holds sample values raises ``SampleValuesError`` here too, whatever the caller."""
    config = _load_process_config()
    if is_production() and config.samples:
        raise SampleValuesError(samples_message(config, config_path(), production=True))
    return config


get_config.cache_clear = _load_process_config.cache_clear  # type: ignore[attr-defined]
get_config.cache_info = _load_process_config.cache_info  # type: ignore[attr-defined]


# --- sample values at start-up -------------------------------------------------------------------

try:  # In the Rasa server, a RasaException: `rasa run` prints it without a traceback and exits 1.
    from rasa.shared.exceptions import RasaException as _StartupError
except ImportError:  # the action server's image has rasa_sdk only
    _StartupError = RuntimeError  # type: ignore[misc, assignment]


class SampleValuesError(_StartupError):
    """``APP_ENV=production`` and the bureau file still holds sample values."""


def is_production() -> bool:
    return os.environ.get(APP_ENV, "").strip().lower() == "production"


def samples_message(config: BureauConfig, path: Path | str, production: bool) -> str:
    """One message naming every sample value of ``config`` (read from ``path``)."""
    listed = "\n".join(f"  {key}: {value}" for key, value in config.samples.items())
    if production:
        return (
            f"{path} still holds sample values, and APP_ENV=production does not start with them:\n"
            f"{listed}\n"
            "Write the bureau's own value in place of each {sample: ...} and start again."
        )
    return (
        f"{path} still holds sample values; replies say neutral wording in their place "
        f"(e.g. “{NEUTRAL_PHRASES['bureau_phone']}”):\n"
        f"{listed}\n"
        "Write the bureau's own value in place of each {sample: ...}. With APP_ENV=production nothing "
        "starts until then."
    )


def ensure_startable(process: str, warn: Optional[Callable[[str], None]] = None,
                     path: Path | str | None = None) -> BureauConfig:
    """The start-up check of every process (``process`` names it in the messages).

    Loads and validates the bureau file; with ``APP_ENV=production`` raises ``SampleValuesError``
    naming each sample value still in it; otherwise hands one warning listing them to ``warn``
    (default: this module's logger) and returns the configuration.
    """
    path = Path(path) if path else config_path()
    config = load_config(path)
    if config.samples:
        if is_production():
            raise SampleValuesError(f"{process}: " + samples_message(config, path, production=True))
        (warn or logger.warning)(samples_message(config, path, production=False))
    return config


def startup_check_or_exit(process: str, warn: Optional[Callable[[str], None]] = None,
                          exit_status: int = 1, path: Path | str | None = None) -> BureauConfig:
    """``ensure_startable`` for command-line entry points: a refusal is printed to standard error and
    the process exits with ``exit_status``; the warning goes to standard error unless ``warn`` says
    otherwise."""
    try:
        return ensure_startable(process, warn or (lambda message: print(f"WARNING: {message}", file=sys.stderr)), path)
    except SampleValuesError as error:
        print(f"ERROR: {error}", file=sys.stderr, flush=True)
        raise SystemExit(exit_status) from None


# --- filling templates ---------------------------------------------------------------------------

class UnfilledPlaceholder(KeyError):
    """A template has ``{placeholders}`` that no value fills."""

    def __init__(self, missing: Collection[str], template: str) -> None:
        self.missing = sorted(set(missing))
        self.template = template
        super().__init__(f"no value for {', '.join('{' + m + '}' for m in self.missing)} in {template!r}")

    def __str__(self) -> str:
        return str(self.args[0])


def placeholders(template: str) -> Set[str]:
    return set(PLACEHOLDER.findall(template or ""))


def _missing(template: str, values: Mapping[str, Any]) -> Set[str]:
    return {name for name in placeholders(template) if values.get(name) is None}


def fill_template(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]``.

    A placeholder without a value (absent or None) raises ``UnfilledPlaceholder``: a reply never
    carries braces to a citizen. Only ``{word}`` is a placeholder; other text is left as it is.
    """
    missing = _missing(template, values)
    if missing:
        raise UnfilledPlaceholder(missing, template)
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), template)


def sentences(text: str) -> List[str]:
    """``text`` cut after each sentence end mark (。！？) and each line break; joined, they give it back."""
    return [part for part in _SENTENCE.findall(text) if part]


def omit_sentences_with(template: str, keys: Collection[str]) -> str:
    """``template`` without the sentences (or lines) that use one of ``keys``: for a reply that says
    a fact only when it is configured (``keys``: ``config.sample_keys()``)."""
    keys = set(keys)
    if not keys:
        return template
    return "".join(part for part in sentences(template) if not placeholders(part) & keys)


def fill_template_leniently(template: str, values: Mapping[str, Any]) -> Tuple[str, Set[str]]:
    """``fill_template`` for production: the sentences whose placeholders have no value are left out
    instead of raising. Returns the text and the placeholders that were missing (log them)."""
    missing = _missing(template, values)
    if missing:
        template = "".join(part for part in sentences(template) if not placeholders(part) & missing)
    return fill_template(template, values), missing


def strict_templates() -> bool:
    """Whether a missing template value raises (``STRICT_TEMPLATES=1``: the tests) or, in production,
    the sentence that needs it is left out and the error logged."""
    return os.environ.get("STRICT_TEMPLATES", "").strip().lower() in ("1", "true", "yes")
