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
NAME_TOO_LONG_CHARS = 8  # more Chinese characters than this is a sentence, not a name

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_PLAIN_NAME = re.compile(rf"[{_HAN}]{{2,{NAME_MAX_CHARS}}}")
# A surname (one or two characters, e.g. 王, 欧阳) followed by a form of address.
_HONORIFICS = (
    "先生|女士|小姐|阿姨|大爷|大妈|大娘|大叔|大姐|大哥|老师|师傅|奶奶|爷爷|婆婆|老伯|伯伯|叔叔|"
    "老汉|老太|同志"
)
_SURNAME_WITH_HONORIFIC = re.compile(rf"[{_HAN}]{{1,2}}(?:{_HONORIFICS})")
# "我姓刘", "俺姓刘 叫建国", "姓欧阳": the surname (one or two characters) and what follows, if anything.
_SURNAME_GIVEN = re.compile(rf"(?:我|俺|咱|本人)?姓([{_HAN}])(?:[，,]?(?:叫|名叫|名|单名)?([{_HAN}]{{1,3}}))?")
# Names of ethnic minorities are often transcribed with a middle dot: 买买提·艾力.
_DOTTED_NAME = re.compile(rf"[{_HAN}]{{1,8}}(?:·[{_HAN}]{{1,8}}){{1,3}}")
_DOTTED_NAME_MAX_CHARS = 16
# Lead-ins people type before their name; removed, not rejected.
_LEAD_IN = re.compile(r"^(?:我的名字是|我的名字叫|名字是|名字叫|姓名是|姓名|名字|我叫|我是|叫我|叫)[:：,，\s]*")
# What people add after a name: "叫我老刘就行".
_TRAILING = re.compile(r"(?:就行了?|就好了?|就可以了?|就成|好了|吧|啊|呀|哈)+$")
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

    People give a name as they are called: 刘老汉, 老刘, 刘大爷, and sometimes with what they say
    around it ("俺姓刘 刘老汉"): of several parts, the last that is a name is taken. "我姓刘" alone
    raises ``surname_only`` (detail: the surname), so that the citizen is asked, once and kindly,
    what the lawyer should call them.

    Raises ``InvalidName`` with ``invalid_name``, ``surname_only`` or ``name_too_long``.
    """
    normalised = unicodedata.normalize("NFKC", text or "").translate(_DOT_VARIANTS)
    compact = re.sub(r"[\s,，。、;；!！?？~～]+", "", normalised)
    surname = _SURNAME_GIVEN.fullmatch(compact)
    if surname:
        family, given = surname.group(1), surname.group(2)
        if not given:
            raise InvalidName(Reason.SURNAME_ONLY, family)
        return validate_name(given if given.startswith(family) else family + given)
    parts = [part for part in re.split(r"[\s,，。、;；!！?？~～]+", normalised) if part]
    try:
        return _single_name(re.sub(r"\s+", "", normalised))
    except InvalidName:
        if len(parts) < 2:
            raise
    for part in reversed(parts):
        try:
            return _single_name(part)
        except InvalidName:
            continue
    raise InvalidName(Reason.INVALID_NAME)


def _single_name(name: str) -> str:
    name = _LEAD_IN.sub("", name)
    name = _TRAILING.sub("", name)
    name = name.strip("。.!！?？,，、;；:：~～\"'“”‘’")
    if not name or any(word in name for word in _NOT_IN_NAMES):
        raise InvalidName(Reason.INVALID_NAME)
    if _PLAIN_NAME.fullmatch(name) or _SURNAME_WITH_HONORIFIC.fullmatch(name):
        return name
    if "·" in name and len(name) <= _DOTTED_NAME_MAX_CHARS and _DOTTED_NAME.fullmatch(name):
        return name
    if re.fullmatch(rf"[{_HAN}]+", name) and len(name) > NAME_TOO_LONG_CHARS:
        raise InvalidName(Reason.NAME_TOO_LONG)  # a sentence rather than a name
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
