"""A citizen uses the web chat page on a phone and on a desktop: reads the privacy notice, is greeted
with the menu, taps 预约律师咨询, books a lawyer by tapping dates and times and typing the rest, confirms,
reloads the page and finds the conversation (and the assistant's memory of it) still there.

The clock is fixed at Thursday 2026-11-26 10:00 (下周三 = 12月2日). Screenshots go to
artifacts/screenshots/ (web-<device>-<step>.png).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import urllib.request
from dataclasses import dataclass
from typing import List
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import RASA_PORT, WEB_PORT

pytestmark = pytest.mark.e2e

CODE = re.compile(r"预约码：([A-HJ-NP-Z2-9]{6})")
MENU = ["信访怎么办理", "我的问题该找哪里", "预约律师咨询", "地址和电话"]
ANSWER_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Device:
    name: str
    width: int
    height: int
    touch: bool
    date: str  # the lawyer day this device books (one phone may book once a day)


PHONE = Device("mobile", 375, 812, touch=True, date="12月2日（星期三）")
DESKTOP = Device("desktop", 1280, 800, touch=False, date="12月4日（星期五）")
SLOT = {"mobile": "12月2日（星期三）上午10:00", "desktop": "12月4日（星期五）上午10:00"}


class Citizen:
    """One person on the page, tapping (phone) or clicking (desktop) and typing."""

    MESSAGES = "#chat .rw-from-response .rw-message"

    def __init__(self, page, device: Device) -> None:
        self.page = page
        self.device = device
        self.seen = 0  # the assistant's messages on the page before the citizen's last action

    def _acting(self) -> None:
        self.seen = self.page.locator(self.MESSAGES).count()

    def replies(self, title: str):
        return self.page.locator("#chat .rw-reply").filter(has_text=re.compile(f"^{re.escape(title)}$"))

    def tap(self, title: str) -> None:
        from playwright.sync_api import expect

        button = self.replies(title).last
        expect(button).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        self._acting()
        if self.device.touch:
            button.tap()
        else:
            button.click()

    def type(self, text: str) -> None:
        box = self.page.locator("#chat .rw-new-message")
        self._acting()
        box.fill(text)
        box.press("Enter")

    def answer(self, text: str):
        """The assistant's first message since the citizen's last action that contains text."""
        index = self.page.wait_for_function(
            """([selector, seen, text]) => {
                const messages = document.querySelectorAll(selector);
                for (let i = seen; i < messages.length; i += 1) {
                    if (messages[i].textContent.includes(text)) return i + 1;  // 0 would not count
                }
                return false;
            }""",
            arg=[self.MESSAGES, self.seen, text],
            timeout=ANSWER_TIMEOUT_MS,
        ).json_value()
        return self.page.locator(self.MESSAGES).nth(index - 1)

    def session_id(self) -> str:
        stored = self.page.evaluate("() => window.localStorage.getItem('chat_session')")
        return json.loads(stored)["session_id"]

    def shot(self, screenshots, step: str) -> None:
        """A screenshot once the assistant has finished talking (no typing indicator left)."""
        from playwright.sync_api import expect

        expect(self.page.locator("#chat .rw-typing-indication")).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
        self.page.screenshot(path=str(screenshots / f"web-{self.device.name}-{step}.png"))


def tracker(session_id: str, token: str) -> dict:
    with urllib.request.urlopen(
        f"http://127.0.0.1:{RASA_PORT}/conversations/{session_id}/tracker?token={token}", timeout=30
    ) as response:
        return json.loads(response.read())


def local(url: str) -> bool:
    if url.startswith(("data:", "blob:")):
        return True
    parts = urlsplit(url)
    return parts.hostname == "127.0.0.1" and parts.port in (WEB_PORT, RASA_PORT)


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=lambda d: d.name)
def test_book_a_lawyer_and_find_the_conversation_after_a_reload(
    device, browser, web_server, web_assistant, screenshots
):
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": device.width, "height": device.height},
        device_scale_factor=2 if device.touch else 1,
        is_mobile=device.touch,
        has_touch=device.touch,
        locale="zh-CN",
    )
    page = context.new_page()
    # notes each typing indicator the page shows: ours while waiting for Rasa (.xf-waiting), the widget's
    # between the messages of one answer
    page.add_init_script("""
        window.__typing = [];
        new MutationObserver((mutations) => mutations.forEach((m) => m.addedNodes.forEach((node) => {
            if (node.nodeType === 1 && node.classList.contains("rw-typing-indication")) {
                window.__typing.push(node.classList.contains("xf-waiting") ? "waiting" : "widget");
            }
        }))).observe(document, {childList: true, subtree: true});
    """)
    requests: List[str] = []
    problems: List[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda socket: requests.append(socket.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    citizen = Citizen(page, device)
    try:
        page.goto(web_server)
        expect(page).to_have_title("县信访局 智能助手")

        # The privacy notice is there before anything is said: what is kept, and for how long.
        notice = page.locator("#privacy")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("对话内容")
        expect(notice).to_contain_text("姓名、手机号码和事情简述")
        expect(notice).to_contain_text("180 天")

        # The greeting (from the initial payload /greet) with its menu as tappable quick replies.
        citizen.answer("智能助手")
        for title in MENU:
            expect(citizen.replies(title)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        _check_layout(page, device)
        citizen.shot(screenshots, "1-greeting")

        page.locator("#privacy-ok").click()
        expect(notice).to_be_hidden()

        # Book: tap the menu, a date and a time; type name, phone and summary; confirm.
        page.evaluate("() => { window.__typing = []; }")
        citizen.tap("预约律师咨询")
        citizen.answer("想约哪一天")
        # a typing indicator showed while the assistant worked on the answer
        assert "waiting" in page.evaluate("() => window.__typing")
        citizen.tap(device.date)
        citizen.answer("还有这些时间有空位")
        citizen.tap("上午10:00")
        citizen.answer("怎么称呼")
        citizen.type("王建国")
        citizen.answer("手机号码")
        citizen.type("13800001234")
        citizen.answer("一两句话")
        citizen.type("安置房一直不交付，想问问怎么维权")
        summary = citizen.answer("请核对预约信息")
        expect(summary).to_contain_text(SLOT[device.name])
        expect(summary).to_contain_text("王建国")
        expect(citizen.replies("要修改")).to_be_visible()
        citizen.tap("确认预约")

        success = citizen.answer("预约成功")
        code = CODE.search(success.inner_text()).group(1)
        expect(success).to_contain_text(SLOT[device.name])
        expect(citizen.replies("确认预约")).to_have_count(0)  # tapped buttons go away
        _check_layout(page, device)
        citizen.shot(screenshots, "2-booked")

        # Links in answers are clickable and end where the address ends.
        citizen.type("网上信访怎么弄")
        link = page.locator("#chat .rw-from-response a[href^='https://']").last
        expect(link).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        assert link.get_attribute("href") == "https://www.gjxfj.gov.cn"
        assert link.get_attribute("target") == "_blank"
        assert "noopener" in (link.get_attribute("rel") or "")

        # The same conversation in Rasa: the session id is the sender id, and the booking is in it.
        session = citizen.session_id()
        assert tracker(session, web_assistant.auth_token)["slots"]["booking_code"] == code

        # Reload: the history is still on the page, the greeting is not sent again, the notice
        # stays read, and the assistant still knows the conversation.
        page.reload()
        expect(page.locator("#chat .rw-from-response").filter(has_text="预约成功")).to_be_visible(
            timeout=ANSWER_TIMEOUT_MS
        )
        expect(page.locator("#chat .rw-from-response").filter(has_text=code)).to_be_visible()
        expect(page.locator("#chat .rw-from-client").filter(has_text="王建国")).to_be_visible()
        expect(notice).to_be_hidden()
        expect(page.locator("#status")).to_have_attribute("data-state", "connected", timeout=ANSWER_TIMEOUT_MS)
        assert citizen.session_id() == session
        page.wait_for_timeout(1500)  # an initial payload, if one were sent again, would be answered by now
        expect(page.locator("#chat .rw-from-response").filter(has_text="您好，我是")).to_have_count(1)

        citizen.type("查一下我的预约")
        citizen.answer("手机号码")  # the code is remembered from this conversation: only the phone is asked
        citizen.type("13800001234")
        found = citizen.answer("找到了您的预约")
        expect(found).to_contain_text(code)
        expect(found).to_contain_text(SLOT[device.name])
        citizen.shot(screenshots, "3-after-reload")

        # The notice opens again from the header; 清除本机记录 forgets the conversation on this device
        # and starts a new one.
        page.locator("#privacy-toggle").click()
        expect(notice).to_be_visible()
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.locator("#forget").click()
        citizen.seen = 0
        citizen.answer("您好，我是")
        expect(page.locator("#chat .rw-from-client")).to_have_count(0)
        expect(notice).to_be_visible()
        assert citizen.session_id() != session

        outside = [url for url in requests if not local(url)]
        assert not outside, f"the page loaded something from outside: {outside}"
        assert not problems, f"errors in the browser console: {problems}"
    finally:
        context.close()


def test_the_page_says_when_the_assistant_cannot_be_reached(browser, screenshots):
    from playwright.sync_api import expect

    from bot.web import serve

    server = serve.make_server("127.0.0.1", 0, rasa_port=_closed_port())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        expect(page.locator("#status")).to_have_attribute("data-state", "error", timeout=ANSWER_TIMEOUT_MS)
        expect(page.locator("#status")).to_contain_text("连不上")
        expect(page.locator("#privacy")).to_be_visible()
        expect(page.locator("#chat .rw-new-message")).to_be_visible()
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _check_layout(page, device: Device) -> None:
    """Nothing sticks out sideways; the input row is on screen; on a desktop the panel is centred."""
    from playwright.sync_api import expect

    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= device.width, f"the page is {width}px wide in a {device.width}px window"
    for selector in ("#chat .rw-new-message", "#chat .rw-send"):
        expect(page.locator(selector)).to_be_in_viewport()
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= device.width
        assert box["y"] + box["height"] <= device.height
    for reply in page.locator("#chat .rw-reply").all():
        box = reply.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= device.width
        if device.touch:
            assert box["height"] >= 36, "quick replies must be large enough to tap"
    panel = page.locator(".app").bounding_box()
    if device.touch:
        assert panel["width"] == device.width and panel["height"] == device.height  # full screen
    else:
        assert abs(panel["x"] - (device.width - panel["x"] - panel["width"])) <= 1  # centred
