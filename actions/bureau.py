"""The bureau's facts, loaded from the one configuration file operators edit (``bureau.yml``).

``BUREAU_CONFIG`` points at another file (tests, a second county); by default the file at the
repository root is used. The file is validated on load so that a typo fails loudly at start-up
instead of putting a wrong phone number in front of a citizen.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import Dict, List

import yaml
from pydantic import BaseModel, Field, validator

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "bureau.yml"

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_NAMES_ZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]


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

    def template_values(self) -> Dict[str, str]:
        """Flat values for filling response templates, e.g. ``{bureau_phone}``."""
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


def config_path() -> Path:
    return Path(os.environ.get("BUREAU_CONFIG") or DEFAULT_PATH)


def load_config(path: Path | str | None = None) -> BureauConfig:
    """Read and validate a bureau configuration file."""
    path = Path(path) if path else config_path()
    with open(path, encoding="utf-8") as handle:
        return BureauConfig.parse_obj(yaml.safe_load(handle))


@lru_cache(maxsize=1)
def get_config() -> BureauConfig:
    """The configuration of this process, read once."""
    return load_config()
