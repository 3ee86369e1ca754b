"""Validation of what the citizen types: mobile number, name, matter summary.

Each ``validate_*`` returns the cleaned value or raises an ``InvalidInput`` subclass whose reason
the action turns into a Chinese reply. ``mask_phone`` is the only way a phone number may appear in
a log line.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

import phonenumbers
from phonenumbers import PhoneNumberType

from actions.booking.errors import InvalidName, InvalidPhone, InvalidSummary, Reason

SUMMARY_MAX_CHARS = 200
NAME_MAX_CHARS = 4  # plain names; a surname + honorific may be one or two characters longer

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_PLAIN_NAME = re.compile(rf"[{_HAN}]{{2,{NAME_MAX_CHARS}}}")
# A surname (one or two characters, e.g. 王, 欧阳) followed by a form of address.
_HONORIFICS = (
    "先生|女士|小姐|阿姨|大爷|大妈|大娘|大叔|大姐|大哥|老师|师傅|奶奶|爷爷|婆婆|老伯|伯伯|叔叔|"
    "老汉|老太|同志"
)
_SURNAME_WITH_HONORIFIC = re.compile(rf"[{_HAN}]{{1,2}}(?:{_HONORIFICS})")
# Names of ethnic minorities are often transcribed with a middle dot: 买买提·艾力.
_DOTTED_NAME = re.compile(rf"[{_HAN}]{{1,8}}(?:·[{_HAN}]{{1,8}}){{1,3}}")
_DOTTED_NAME_MAX_CHARS = 16
# Lead-ins people type before their name; removed, not rejected.
_LEAD_IN = re.compile(r"^(?:我的名字是|我的名字叫|名字是|名字叫|姓名是|姓名|名字|我叫|我是|叫我|叫)[:：,，\s]*")
# Words that never occur in a name but often in an answer that is not one ("不想说", "你猜").
_NOT_IN_NAMES = (
    "我", "你", "您", "他们", "不", "没", "吗", "呢", "吧", "啊", "呀", "嘛", "哦", "嗯", "么",
    "什么", "知道", "告诉", "名字", "姓名", "电话", "号码", "保密", "匿名", "不想", "说", "谢谢", "预约",
    "律师", "可以", "好的", "随便",
)
_DOT_VARIANTS = str.maketrans({"•": "·", "‧": "·", "∙": "·", "・": "·", ".": "·"})


def validate_phone(text: str) -> str:
    """A mainland China mobile number as 11 digits.

    Accepts spaces, dashes, full-width digits, ``+86``/``0086``. Raises ``InvalidPhone`` with
    ``invalid_phone`` (not a number) or ``not_mobile`` (a landline or a foreign number).
    """
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    if not cleaned or not re.fullmatch(r"[\d\s()+\-.]+", cleaned):
        raise InvalidPhone(Reason.INVALID_PHONE)
    try:
        number = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidPhone(Reason.INVALID_PHONE) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(Reason.INVALID_PHONE)
    if number.country_code != 86 or phonenumbers.number_type(number) != PhoneNumberType.MOBILE:
        raise InvalidPhone(Reason.NOT_MOBILE)
    return str(number.national_number)


def find_phone(text: str) -> Optional[str]:
    """The first China mobile number inside free text ("我叫王建国，电话138 1234 5678"), or None."""
    cleaned = unicodedata.normalize("NFKC", text or "")
    for match in phonenumbers.PhoneNumberMatcher(cleaned, "CN"):
        try:
            return validate_phone(match.raw_string)
        except InvalidPhone:
            continue
    return None


def mask_phone(phone: Optional[str]) -> str:
    """``13812345678`` -> ``138****5678``; anything else keeps at most its last two characters."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) <= 2:
        return "*" * len(digits)
    return "*" * (len(digits) - 2) + digits[-2:]


def validate_name(text: str) -> str:
    """A person's name: 2-4 Chinese characters, a surname + form of address (王先生, 欧阳女士),
    or a dotted minority name (买买提·艾力). Lead-ins such as "我叫" are dropped.

    Raises ``InvalidName`` with ``invalid_name`` or ``name_too_long``.
    """
    name = unicodedata.normalize("NFKC", text or "").translate(_DOT_VARIANTS)
    name = re.sub(r"\s+", "", name)
    name = _LEAD_IN.sub("", name)
    name = name.strip("。.!！?？,，、;；:：~～\"'“”‘’")
    if not name or any(word in name for word in _NOT_IN_NAMES):
        raise InvalidName(Reason.INVALID_NAME)
    if _PLAIN_NAME.fullmatch(name) or _SURNAME_WITH_HONORIFIC.fullmatch(name):
        return name
    if "·" in name and len(name) <= _DOTTED_NAME_MAX_CHARS and _DOTTED_NAME.fullmatch(name):
        return name
    if re.fullmatch(rf"[{_HAN}]+", name) and len(name) > NAME_MAX_CHARS:
        raise InvalidName(Reason.NAME_TOO_LONG)
    raise InvalidName(Reason.INVALID_NAME)


def validate_summary(text: str) -> str:
    """The matter summary, stripped and with runs of white space collapsed; 1-200 characters.

    Raises ``InvalidSummary`` with ``empty_summary`` or ``summary_too_long``.
    """
    summary = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or "")).strip()
    if not summary or not re.search(r"\w", summary):
        raise InvalidSummary(Reason.EMPTY_SUMMARY)
    if len(summary) > SUMMARY_MAX_CHARS:
        raise InvalidSummary(Reason.SUMMARY_TOO_LONG)
    return summary
