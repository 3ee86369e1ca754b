"""The staff command ``python -m actions.admin``."""

import csv
import datetime as dt
import os
import subprocess
import sys

import pytest
import yaml
from booking_helpers import TEST_SESSIONS, book, phone

from actions import admin
from actions.booking.db import REPO_ROOT
from actions.booking.errors import Reason

WED = dt.date(2026, 12, 2)


def run(service, capsys, *argv):
    code = admin.main(list(argv), service=service)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def booked(service):
    first = book(service, WED, "10:00", n=1, name="王建国", matter_type="wage_arrears")
    second = book(service, WED, "14:30", n=2, name="李娜")
    cancelled = book(service, WED, "15:00", n=3, name="张伟")
    service.cancel(cancelled.code, phone(3))
    return first, second, cancelled


def test_list_masks_phones_unless_asked(service, capsys, booked):
    first, second, cancelled = booked
    code, out, _ = run(service, capsys, "list", "2026-12-02")
    assert code == 0
    assert "共 2 条预约" in out and first.code in out and second.code in out
    assert cancelled.code not in out
    assert "138****0001" in out and phone(1) not in out
    _, out, _ = run(service, capsys, "list", "2026-12-02", "--all", "--show-phone")
    assert cancelled.code in out and phone(1) in out


def test_list_accepts_chinese_dates(service, capsys, booked):
    code, out, _ = run(service, capsys, "list", "下周三")
    assert code == 0 and "2026-12-02（星期三）" in out and booked[0].code in out


def test_export_csv_for_the_lawyers(service, capsys, booked, workdir):
    target = workdir / "2026-12-02.csv"
    code, out, _ = run(service, capsys, "export", "2026-12-02", "--csv", str(target))
    assert code == 0 and "2 条" in out
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["时间"], r["姓名"], r["手机号"], r["事项类型"]) for r in rows] == [
        ("10:00", "王建国", phone(1), "wage_arrears"), ("14:30", "李娜", phone(2), ""),
    ]


def test_mark(service, capsys, clock, booked):
    code, _, err = run(service, capsys, "mark", booked[0].code, "attended")
    assert code == 2 and "接访日还没到" in err
    clock.set(2026, 12, 2, 17, 30)
    code, out, _ = run(service, capsys, "mark", booked[0].code.lower(), "attended")
    assert code == 0 and "已到场" in out
    assert service.find(booked[0].code, phone(1)).status == "attended"
    code, _, err = run(service, capsys, "mark", "ZZZZZZ", "no_show")
    assert code == 2 and "没有这个预约码" in err


def test_close_and_reopen(service, capsys, booked):
    code, out, _ = run(service, capsys, "close", "2026-12-02", "--reason", "单位集中学习")
    assert code == 0
    assert "已有 2 条预约" in out and booked[0].code in out and phone(1) not in out
    assert service.check_date(WED) == Reason.CLOSURE
    _, out, _ = run(service, capsys, "closures")
    assert "2026-12-02（星期三）  单位集中学习" in out
    _, out, _ = run(service, capsys, "list", "2026-12-02")
    assert "该日不接待（已关闭：单位集中学习）" in out
    code, out, _ = run(service, capsys, "reopen", "2026-12-02")
    assert code == 0 and service.check_date(WED) is None


def test_purge_and_report(service, capsys, clock):
    clock.set(2026, 5, 20, 10, 0)
    booking = book(service, dt.date(2026, 5, 27), "09:00", n=1, matter_type="wage_arrears")
    clock.set(2026, 5, 27, 12, 0)
    service.mark(booking.code, "attended")
    clock.set(2026, 11, 26, 10, 0)
    code, out, _ = run(service, capsys, "purge")
    assert code == 0 and "1 条" in out
    code, out, _ = run(service, capsys, "report", "--from", "2026-01-01", "--to", "2026-06-30")
    assert code == 0
    assert "接访批次：1" in out and "接待人次：1" in out and "wage_arrears" in out


def test_purge_deletes_old_conversations_of_the_tracker_store(service, capsys, clock, tmp_path, monkeypatch):
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy import create_engine, text

    from bot.stores import PrivateTrackerStore
    from tests.conftest import ROOT

    url = f"sqlite:///{tmp_path / 'trackers.db'}"
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    monkeypatch.setenv("TRACKER_ENCRYPTION_KEY", "test key")
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = PrivateTrackerStore(domain, host=url)
    old, recent = dt.datetime(2026, 5, 1, 10).timestamp(), dt.datetime(2026, 11, 20, 10).timestamp()
    for sender, moment in (("old", old), ("recent", recent)):
        tracker = DialogueStateTracker(sender, domain.slots)
        tracker.update(UserUttered("工资被拖欠", timestamp=moment))
        asyncio.run(store.save(tracker))
    clock.set(2026, 11, 26, 10, 0)
    code, out, _ = run(service, capsys, "purge")
    assert code == 0 and "1 条对话记录" in out
    with create_engine(url).connect() as connection:
        assert connection.execute(text("SELECT DISTINCT sender_id FROM events")).scalars().all() == ["recent"]


def test_report_rejects_a_reversed_range(service, capsys):
    code, _, err = run(service, capsys, "report", "--from", "2026-06-30", "--to", "2026-01-01")
    assert code == 2 and "失败" in err


def test_calendar_check(service, capsys, clock):
    code, out, _ = run(service, capsys, "calendar-check")
    assert code == 0 and "完整" in out
    clock.set(2026, 12, 20, 10, 0)
    code, out, _ = run(service, capsys, "calendar-check")
    assert code == 1
    assert "WARNING" in out and "2027" in out and "2027-01-01" in out


def test_alerts(service, capsys):
    alert_id = service.alerts.raise_alert("conv-42", "crisis")
    code, out, _ = run(service, capsys, "alerts")
    assert code == 0 and "conv-42" in out and "待处理" in out
    code, out, _ = run(service, capsys, "alert-handled", str(alert_id))
    assert code == 0
    _, out, _ = run(service, capsys, "alerts")
    assert "没有待处理的提醒" in out


def test_the_command_line_entry_point(workdir, sqlite_url, service, booked):
    """The real ``python -m actions.admin``, configured by environment variables only."""
    bureau = yaml.safe_load((REPO_ROOT / "bureau.yml").read_text(encoding="utf-8"))
    bureau["lawyer_sessions"] = TEST_SESSIONS
    config_file = workdir / "bureau.yml"
    config_file.write_text(yaml.safe_dump(bureau, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": sqlite_url, "BOT_NOW": "2026-12-20T10:00",
           "BUREAU_CONFIG": str(config_file)}

    def cli(*argv):
        return subprocess.run([sys.executable, "-m", "actions.admin", *argv], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    listed = cli("list", "2026-12-02")
    assert listed.returncode == 0, listed.stderr
    assert booked[0].code in listed.stdout and "jionlp" not in listed.stdout
    chinese = cli("list", "下周三")
    assert chinese.returncode == 0 and "2026-12-23" in chinese.stdout and "jionlp" not in chinese.stdout
    check = cli("calendar-check")
    assert check.returncode == 1 and "2027" in check.stdout
