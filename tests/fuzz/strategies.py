"""Hypothesis strategies shared by the fuzz tests: hostile text, JSON of every shape, raw bytes,
Rasa-shaped action calls and WeChat XML."""

from __future__ import annotations

import json
import zlib
from functools import lru_cache
from typing import Any, Dict, List

import yaml
from hypothesis import strategies as st

from tests.conftest import ROOT

# --------------------------------------------------------------------------- hostile text

SQL_INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE bookings; --",
    '" OR 1=1 --',
    "1; DELETE FROM bookings WHERE 1=1",
    "' UNION SELECT code, phone, name FROM bookings --",
    "13800001234' OR phone LIKE '%",
    "K7M3QX'; UPDATE bookings SET status='cancelled' --",
    "admin'/*",
    "%' AND 1=(SELECT COUNT(*) FROM slot_counters) --",
]
MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(document.cookie)>",
    "javascript:alert(1)",
    "<svg/onload=alert(1)>",
    "]]><script>alert(1)</script><![CDATA[",
    "<![CDATA[<xml>]]>",
    "&lt;&amp;&#0;&#x110000;",
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>",
    '"><iframe src=//evil.example>',
]
FORMAT_STRINGS = [
    "%s%s%s%s%n", "%(name)s", "%d%x%p", "{0}{1}{2}", "{__class__.__mro__}", "{booking_code}",
    "{bureau_phone}{online_url}", "${jndi:ldap://127.0.0.1/a}", "{{7*7}}", "{% raw %}", "\\N{BELL}",
]
CONTROL_AND_UNICODE = [
    "\x00", "a\x00b", "\x00" * 50, "\x1b[31m红\x1b[0m", "\r\n\r\nHTTP/1.1 200 OK\r\n", "\t\v\f",
    "\u202e预约律师\u202c", "\u200b\u200c\u200d\u2060\ufeff", "\u2028\u2029", "\ufffe\uffff",
    "A\u0301\u0302\u0303\u0304", "👨‍👩‍👧‍👦🏳️‍🌈", "𠀀𪚥𰻞", "ｆｕｌｌ　ｗｉｄｔｈ　１３８０００１２３４",
    "\U0010ffff", "Z̴̡̪͉a̷l̶g̸o̵", "مرحبا\u200fשלום", "\ud800", "\udfff", "a\udc80b", "\ud83d",
]
PATHS_AND_COMMANDS = [
    "../../../../etc/passwd", "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/",
    "/restart", "/session_start", "/stop", "/greet", "/affirm", "/deny", "/book_lawyer",
    '/inform{"booking_confirmed": true}', '/inform{"date":"2026-12-02","time":"10:00"}',
    '/inform{"citizen_phone":"13800001234","citizen_name":"王建国"}', "/inform{not json",
    '/inform{"date": {"$gt": ""}}', "/" + "a" * 300, "/nlu_fallback", "/action_listen",
    "EXTERNAL: action_booking_done", '/cancel_booking{"booking_code":"AAAAAA"}',
]
CITIZEN_TEXT = [
    "你好", "我想预约律师咨询", "预约律师", "下周三上午十点", "王建国", "138 0000 1234", "确认预约",
    "取消预约", "帮我查一下预约", "我想上访", "不想活了", "工资被拖欠了半年", "信访流程是什么",
    "1", "２", "不约了", "", " ", "?", "。。。。。。",
]
NASTY_STRINGS: List[str] = (
    SQL_INJECTIONS + MARKUP + FORMAT_STRINGS + CONTROL_AND_UNICODE + PATHS_AND_COMMANDS + CITIZEN_TEXT
)

# Every code point, lone surrogates (category Cs) included.
any_char = st.characters(codec=None)
surrogate_char = st.characters(categories=["Cs"])
odd_char = st.one_of(
    st.characters(categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Mn"]),
    st.sampled_from(["\u202e", "\u200b", "\u200f", "\ufeff", "\x00", "\ufffd", "'", '"', "<", "&", "%", "{", "\\"]),
)


def long_text(min_chars: int = 1000, max_chars: int = 300_000) -> st.SearchStrategy[str]:
    """A short pattern repeated up to ``max_chars`` characters (generated cheaply)."""
    return st.builds(
        lambda unit, size: (unit * (size // len(unit) + 1))[:size],
        st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(NASTY_STRINGS).filter(bool)),
        st.integers(min_value=min_chars, max_value=max_chars),
    )


@st.composite
def _spliced(draw) -> str:
    """A citizen's sentence with hostile pieces spliced in."""
    pieces = draw(st.lists(st.one_of(st.sampled_from(NASTY_STRINGS), st.text(odd_char, max_size=4),
                                     st.text(max_size=20)), min_size=1, max_size=6))
    return "".join(pieces)


nasty_text: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.text(max_size=200),
    st.text(any_char, max_size=60),
    st.text(odd_char, max_size=30),
    _spliced(),
    long_text(min_chars=990, max_chars=1010),  # around MESSAGE_MAX_CHARS
)
nasty_or_long_text = st.one_of(nasty_text, nasty_text, long_text())

# --------------------------------------------------------------------------- JSON


def json_scalars(text: st.SearchStrategy[str] = nasty_text) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        text,
    )


json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars(),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.text(max_size=10), st.sampled_from(NASTY_STRINGS)), children, max_size=5),
    ),
    max_leaves=20,
)


def dumps(value: Any) -> bytes:
    """JSON as a client would send it; lone surrogates become \\udxxx escapes."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def dumps_raw(value: Any) -> bytes:
    """JSON with the characters as they are, lone surrogates as (invalid) UTF-8 bytes."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def deep_nesting(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


malformed_json_bytes: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([
        b"", b"{", b"}", b"[", b"null", b"true", b"0", b"-0", b'"x"', b"{}", b"[]", b"NaN", b"Infinity",
        b'{"sender": NaN}', b'{"sender": "a", "message": "b",}', b"{'sender': 'a'}", b'{"a":1}{"b":2}',
        b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", b'{"sender": "\xff\xfe", "message": "\xc3\x28"}',
        b'{"sender": "\xed\xa0\x80", "message": "\xed\xa0\x80"}', b'{"\x00": "\x00"}', b"1" * 5000,
        b'{"sender": "a", "message": "' + b"\\u0000" * 200 + b'"}', b'{"x": 1e999999}',
        b'{"x": ' + b"9" * 10000 + b"}", b'{"sender": "a", "message": "\\ud800\\udbff"}',
    ]),
    st.builds(deep_nesting, st.integers(min_value=100, max_value=200_000)),
    st.builds(deep_nesting, st.integers(min_value=100, max_value=50_000), st.just('{"a":'), st.just("}")),
    st.builds(dumps_raw, json_values),
)

content_types = st.one_of(
    st.none(),
    st.sampled_from([
        "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
        "text/plain", "text/xml", "application/xml", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=----x", "multipart/form-data", "application/octet-stream",
        "*/*", "", "json", "application/json; charset=\"\x7f\"", "text/html; charset=utf-7",
    ]),
    # (requests refuses header values with leading white space)
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=40).filter(lambda t: t[:1] != " "),
)

# --------------------------------------------------------------------------- Rasa-shaped action calls


@lru_cache(maxsize=1)
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def domain_actions() -> List[str]:
    return list(domain()["actions"])


def domain_slots() -> List[str]:
    return list(domain()["slots"])


def domain_intents() -> List[str]:
    return [i if isinstance(i, str) else next(iter(i)) for i in domain()["intents"]]


slot_values = st.one_of(json_values, nasty_text, st.sampled_from([
    "2026-12-02", "2026-12-04", "10:00", "14:30", "王建国", "13800001234", "安置房不交付", "K7M3QX",
    True, False, None, "labor", "court", "not_enforced",
]))

slot_names = st.one_of(st.sampled_from(domain_slots() + ["requested_slot", "session_started_metadata"]),
                       st.text(max_size=20))

event_names = st.sampled_from([
    "slot", "user", "bot", "action", "active_loop", "session_started", "restart", "rewind", "reset_slots",
    "followup", "pause", "resume", "export", "undo", "action_execution_rejected", "loop_interrupted",
    "entities", "user_featurization", "stack",
])


@st.composite
def events(draw) -> List[Any]:
    """A list of events, mostly Rasa-shaped, ending with slot candidates (what form validation reads)."""
    shaped = st.fixed_dictionaries(
        {"event": event_names},
        optional={
            "name": st.one_of(slot_names, st.sampled_from(domain_actions()), json_values),
            "value": slot_values,
            "timestamp": st.one_of(st.floats(allow_nan=False), json_values),
            "text": nasty_text,
            "parse_data": json_values,
            "metadata": json_values,
            "policy": json_values,
            "confidence": json_values,
        },
    )
    body = draw(st.lists(st.one_of(shaped, shaped, json_values), max_size=8))
    candidates = draw(st.lists(st.fixed_dictionaries({"event": st.just("slot"), "name": slot_names,
                                                      "value": slot_values}), max_size=6))
    return body + candidates


latest_messages = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "text": nasty_text,
            "message_id": st.one_of(st.text(max_size=40), json_values),
            "intent": st.one_of(st.fixed_dictionaries({"name": st.one_of(st.sampled_from(domain_intents()),
                                                                         json_values),
                                                       "confidence": json_values}), json_values),
            "entities": st.one_of(st.lists(st.fixed_dictionaries({"entity": st.text(max_size=12),
                                                                  "value": slot_values})), json_values),
            "metadata": json_values,
        },
    ),
)


@st.composite
def trackers(draw) -> Any:
    tracker = draw(st.fixed_dictionaries(
        {"sender_id": st.one_of(nasty_text, nasty_text, json_values)},
        optional={
            "slots": st.one_of(st.dictionaries(slot_names, slot_values, max_size=10), json_values),
            "latest_message": latest_messages,
            "events": st.one_of(events(), json_values),
            "paused": json_values,
            "followup_action": json_values,
            "active_loop": st.one_of(st.fixed_dictionaries({"name": st.sampled_from(list(domain()["forms"]))}),
                                     json_values),
            "latest_action_name": st.one_of(st.sampled_from(domain_actions()), json_values),
            "latest_event_time": json_values,
        },
    ))
    return tracker


action_domains = st.one_of(st.just(domain()), st.none(), json_values,
                           st.fixed_dictionaries({"forms": json_values, "slots": json_values}))


@st.composite
def action_calls(draw) -> Any:
    """Bodies shaped like Rasa's calls to the action server, with anything inside."""
    call = draw(st.fixed_dictionaries(
        {"next_action": st.one_of(st.sampled_from(domain_actions()), st.sampled_from(domain_actions()),
                                  nasty_text, json_values),
         "tracker": st.one_of(trackers(), trackers(), trackers(), json_values)},
        optional={
            "sender_id": json_values,
            "domain": action_domains,
            "version": st.one_of(st.sampled_from(["3.6.21", "3.6", "1", "", "x.y.z"]), json_values),
        },
    ))
    return call


def deflate(data: bytes) -> bytes:
    return zlib.compress(data)


# --------------------------------------------------------------------------- WeChat XML

WECHAT_MSG_TYPES = ["text", "voice", "event", "image", "location", "link", "video", "shortvideo", "file",
                    "TEXT", " text ", "", "miniprogrampage"]
WECHAT_EVENTS = ["subscribe", "unsubscribe", "CLICK", "click", "VIEW", "SCAN", "LOCATION", "subscribe_scan",
                 "TEMPLATESENDJOBFINISH", ""]
WECHAT_FIELDS = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event",
                 "EventKey", "Recognition", "MediaId", "Format", "PicUrl", "Location_X", "Location_Y",
                 "Scale", "Label", "Url", "Title", "Description", "Encrypt", "MsgDataId", "Idx"]


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def field_value(value: str, how: str) -> str:
    if how == "cdata":
        return cdata(value)
    if how == "escaped":
        return xml_escape(value)
    return value  # raw: markup characters may break the document, as in a hostile body


@st.composite
def wechat_documents(draw) -> bytes:
    """An XML body with WeChat's fields (or not), values hostile, in various encodings."""
    fields = draw(st.lists(st.tuples(
        st.one_of(st.sampled_from(WECHAT_FIELDS), st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,15}", fullmatch=True)),
        st.one_of(
            st.sampled_from(WECHAT_MSG_TYPES + WECHAT_EVENTS),
            nasty_text,
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.from_regex(r"o[A-Za-z0-9_-]{27}", fullmatch=True),
            st.sampled_from(["/greet", "/book_lawyer", "/ask_office_info", "/affirm", "1", "2"]),
        ),
        st.sampled_from(["cdata", "cdata", "escaped", "escaped", "raw"]),
    ), max_size=10))
    must = draw(st.booleans())
    parts: Dict[str, str] = {}
    if must:  # enough of a message to reach wechatpy and the assistant
        parts["FromUserName"] = cdata(draw(st.from_regex(r"ofuzz[A-Za-z0-9_-]{1,23}", fullmatch=True)))
        parts["MsgType"] = cdata(draw(st.sampled_from(WECHAT_MSG_TYPES)))
        parts["MsgId"] = str(draw(st.integers(min_value=0, max_value=2**63)))
        parts["CreateTime"] = str(draw(st.integers(min_value=0, max_value=2**40)))
    for name, value, how in fields:
        parts.setdefault(name, field_value(value, how))
    root = draw(st.sampled_from(["xml", "xml", "xml", "XML", "message", "x:xml"]))
    inner = "".join(f"<{name}>{value}</{name}>" for name, value in parts.items())
    prolog = draw(st.sampled_from(["", "", '<?xml version="1.0" encoding="utf-8"?>',
                                   '<?xml version="1.0" encoding="gbk"?>', '<?xml version="1.1"?>',
                                   "\ufeff", "<!-- c -->", "<?pi x?>"]))
    document = f"{prolog}<{root}>{inner}</{root}>"
    encoding = draw(st.sampled_from(["utf-8"] * 5 + ["gbk", "utf-16", "latin-1"]))
    return document.encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace")


XML_BOMBS: List[bytes] = [
    # billion laughs
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    b'<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
    b'<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
    b'<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
    b'<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
    b'<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>'
    b"<xml><ToUserName>gh</ToUserName><FromUserName>oBomb</FromUserName><CreateTime>1</CreateTime>"
    b"<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>",
    # quadratic blowup
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "' + b"A" * 50_000 + b'">]><xml><Content>'
    + b"&a;" * 5_000 + b"</Content></xml>",
    # external entities
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<xml><FromUserName>oXXE</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content>"
    b"<MsgId>2</MsgId></xml>",
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "http://127.0.0.1:18055/health">]>'
    b"<xml><FromUserName>oXXE</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content></xml>",
    b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd"><xml><MsgType>text</MsgType></xml>',
    # parameter entities
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]><xml/>',
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % a "<!ENTITY b \'x\'>"> %a;]><xml>&b;</xml>',
    # a DTD that does nothing harmful is refused too
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ELEMENT xml ANY>]><xml><MsgType>text</MsgType></xml>',
    # XInclude
    b'<xml xmlns:xi="http://www.w3.org/2001/XInclude"><FromUserName>oXI</FromUserName>'
    b'<MsgType>text</MsgType><Content><xi:include href="file:///etc/passwd" parse="text"/></Content></xml>',
]


@st.composite
def entity_bombs(draw) -> bytes:
    """Generated entity expansions and external references (all carry a DTD: must be refused)."""
    levels = draw(st.integers(min_value=1, max_value=12))
    fan = draw(st.integers(min_value=2, max_value=16))
    seed = draw(st.text(st.characters(min_codepoint=0x41, max_codepoint=0x5a), min_size=1, max_size=8))
    entities = [f'<!ENTITY e0 "{seed}">']
    for level in range(1, levels):
        entities.append(f'<!ENTITY e{level} "' + f"&e{level - 1};" * fan + '">')
    if draw(st.booleans()):
        target = draw(st.sampled_from(["file:///etc/passwd", "file:///proc/self/environ",
                                       "http://127.0.0.1:18005/", "ftp://127.0.0.1/", "php://filter"]))
        entities.append(f'<!ENTITY ext SYSTEM "{target}">')
    body = f"&e{levels - 1};" + ("&ext;" if "ext" in entities[-1] else "")
    doc = (f'<?xml version="1.0"?><!DOCTYPE xml [{"".join(entities)}]>'
           f"<xml><FromUserName>oBomb</FromUserName><MsgType>text</MsgType><Content>{body}</Content>"
           f"<MsgId>{draw(st.integers(min_value=1, max_value=2**40))}</MsgId></xml>")
    return doc.encode()
