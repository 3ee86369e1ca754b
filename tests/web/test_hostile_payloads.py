"""A booking whose summary carries SQL, HTML and script is stored as typed and shown as text: in the
web chat page (nothing runs), in the database (nothing is dropped) and in the staff's CSV export
(no spreadsheet formula)."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import create_engine, text

from actions import admin
from actions.booking.service import BookingService
from tests.web.test_chat_page import CODE, DESKTOP, Citizen

pytestmark = pytest.mark.e2e

PAYLOAD = (
    "=HYPERLINK(\"http://evil.example\") 工资被拖欠 <script>window.__pwned='script'</script>"
    " <img src=x onerror=\"window.__pwned='img'\"> '; DROP TABLE bookings;--"
)


def test_payloads_are_stored_verbatim_and_shown_escaped(browser, web_server, web_assistant, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": DESKTOP.width, "height": DESKTOP.height}, locale="zh-CN")
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    citizen = Citizen(page, DESKTOP)
    try:
        page.goto(web_server)
        citizen.answer("智能助手")
        page.locator("#privacy-ok").click()
        citizen.type("我要预约律师")
        citizen.answer("想约哪一天")
        citizen.type("12月9日上午十点")
        citizen.answer("怎么称呼")
        citizen.type("李秀英")
        citizen.answer("手机号码")
        citizen.type("13900005678")
        citizen.answer("一两句话")
        citizen.type(PAYLOAD)
        summary = citizen.answer("请核对预约信息")
        expect(summary).to_contain_text("<script>window.__pwned='script'</script>")
        expect(summary).to_contain_text("'; DROP TABLE bookings;--")
        citizen.tap("确认预约")
        code = CODE.search(citizen.answer("预约成功").inner_text()).group(1)

        assert page.evaluate("() => window.__pwned") is None
        assert page.locator("#chat .rw-message img[src='x'], #chat .rw-message script").count() == 0
        assert dialogs == []
    finally:
        context.close()

    database_url = web_assistant.env["DATABASE_URL"]
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT matter_summary FROM bookings WHERE code = :code"), {"code": code}
        ).scalar_one()
    engine.dispose()
    assert stored == PAYLOAD

    service = BookingService.open(database_url, migrate=False)
    try:
        exported = tmp_path / "day.csv"
        assert admin.main(["export", "2026-12-09", "--csv", str(exported)], service=service) == 0
    finally:
        service.dispose()
    with open(exported, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    [row] = [r for r in rows if code in r]
    assert "'" + PAYLOAD in row  # Excel shows it as text instead of running the formula
