"""Staff tool for the lawyer bookings: ``python -m actions.admin COMMAND ...`` from the repository root.

  list DATE [--all] [--show-phone]  a day's bookings (phones masked unless --show-phone)
  export DATE --csv FILE            the day's bookings for the lawyers on duty (UTF-8 CSV, opens in Excel)
  mark CODE attended|no_show|booked record attendance (booked undoes a mistaken mark)
  close DATE --reason TEXT          close a lawyer day; lists the bookings already made for it
  reopen DATE                       undo ``close`` (closures in bureau.yml are edited there)
  closures                          every closure to come, from bureau.yml and from ``close``
  purge                             delete personal data past the retention period (bookings, and
                                    conversations in TRACKER_STORE_URL when set)
  migrate                           bring the bookings database's schema up to date
  report --from DATE --to DATE      批次 and 人次 by matter type for the half-year report
  calendar-check [--days N]         warn about years chinesecalendar does not cover yet
  alerts [--all]                    conversations waiting for staff
  alert-handled ID                  close an alert

DATE is YYYY-MM-DD, or a Chinese expression such as 明天 or 下周三. The database is DATABASE_URL
(default: the SQLite file under data/db/); BOT_NOW fixes the clock. Exit status: 0 on success, 1 when
calendar-check found an uncovered year, 2 on a refused operation or bad input (also: APP_ENV=production
and sample values still in bureau.yml, which are named on standard error).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import os
import sys
from typing import Optional, Sequence

from actions.booking.calendar import calendar_warnings
from actions.booking.dates import parse_date
from actions.booking.errors import BookingError
from actions.booking.service import BookingService
from actions.booking.validation import mask_phone
from actions.bureau import WEEKDAY_NAMES_ZH, startup_check_or_exit
from actions.conversations import purge_conversations

STATUS_ZH = {"booked": "已预约", "cancelled": "已取消", "attended": "已到场", "no_show": "未到场"}
REASON_ZH = {
    "not_lawyer_day": "非律师接访日", "holiday": "法定节假日", "closure": "已关闭",
    "not_found": "没有这个预约码", "not_active": "预约已取消", "not_started": "接访日还没到",
    "invalid_status": "状态只能是 attended、no_show 或 booked",
}
CSV_COLUMNS = ["日期", "时间", "预约码", "姓名", "手机号", "事项类型", "法定途径", "事项摘要", "状态"]


def main(argv: Optional[Sequence[str]] = None, service: Optional[BookingService] = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    own_service = service is None
    service = service or BookingService.open()
    try:
        return args.handler(service, args)
    except BookingError as error:
        print(f"失败：{REASON_ZH.get(error.reason.value, error.reason.value)}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"失败：{error}", file=sys.stderr)
        return 2
    finally:
        if own_service:
            service.dispose()


def _list(service: BookingService, args) -> int:
    day = _date(service, args.date)
    bookings = service.bookings_on(day, include_cancelled=args.all)
    print(f"{_day_label(day)}  共 {len(bookings)} 条预约")
    status = service.day_status(day)
    if status.closed_reason:
        print(f"注意：该日不接待（{_closed_label(status)}）")
    for b in bookings:
        phone = b.phone if args.show_phone else mask_phone(b.phone)
        print(f"{b.time_label}  {b.code}  {b.name}  {phone}  {STATUS_ZH[b.status]}  "
              f"{b.matter_type or '-'}  {b.matter_summary}")
    return 0


def spreadsheet_text(value: str) -> str:
    """A cell Excel shows as text: what a citizen typed may start like a formula ("=HYPERLINK(...)")."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _export(service: BookingService, args) -> int:
    day = _date(service, args.date)
    bookings = service.bookings_on(day)
    # utf-8-sig: Excel on Windows only recognises UTF-8 CSV files that start with a BOM.
    with open(args.csv, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for b in bookings:
            writer.writerow([spreadsheet_text(value) for value in (
                b.date.isoformat(), b.time_label, b.code, b.name, b.phone, b.matter_type or "",
                b.statutory_channel or "", b.matter_summary, STATUS_ZH[b.status])])
    print(f"已导出 {len(bookings)} 条预约（{_day_label(day)}）到 {args.csv}")
    return 0


def _mark(service: BookingService, args) -> int:
    booking = service.mark(args.code, args.status)
    print(f"{booking.code}  {_day_label(booking.date)} {booking.time_label}  → {STATUS_ZH[booking.status]}")
    return 0


def _close(service: BookingService, args) -> int:
    day = _date(service, args.date)
    affected = service.add_closure(day, args.reason)
    print(f"已关闭 {_day_label(day)}：{args.reason.strip()}")
    if affected:
        print(f"该日已有 {len(affected)} 条预约未自动取消，请逐一联系（导出：export {day.isoformat()} --csv FILE）：")
        for b in affected:
            print(f"  {b.time_label}  {b.code}  {mask_phone(b.phone)}")
    return 0


def _reopen(service: BookingService, args) -> int:
    day = _date(service, args.date)
    if service.remove_closure(day):
        print(f"已恢复 {_day_label(day)}")
    else:
        print(f"{_day_label(day)} 没有用本命令关闭过（bureau.yml 中的关闭日期请在文件中修改）")
    status = service.day_status(day)
    if status.closed_reason:
        print(f"注意：该日仍不接待（{_closed_label(status)}）")
    return 0


def _closures(service: BookingService, args) -> int:
    today = service.now().date()
    upcoming = {day: note for day, note in service.closures().items() if day >= today}
    if not upcoming:
        print("没有关闭日期")
    for day, note in sorted(upcoming.items()):
        print(f"{_day_label(day)}  {note}")
    return 0


def _migrate(service: BookingService, args) -> int:
    print("预约数据库结构已是最新")  # BookingService.open has just migrated it
    return 0


def _purge(service: BookingService, args) -> int:
    result = service.purge_expired()
    print(f"已清除 {result.before.isoformat()} 之前的 {result.bookings} 条预约的个人信息（匿名统计已保留），"
          f"以及 {result.alerts} 条已处理的提醒")
    tracker_store_url = os.environ.get("TRACKER_STORE_URL")
    if tracker_store_url:
        events = purge_conversations(tracker_store_url, service.now(), service.config.privacy.retention_days)
        print(f"已清除 {service.config.privacy.retention_days} 天以前的 {events} 条对话记录")
    return 0


def _report(service: BookingService, args) -> int:
    start, end = _date(service, args.start), _date(service, args.end)
    report = service.report(start, end)
    print(f"律师接访统计 {start.isoformat()} 至 {end.isoformat()}")
    print(f"  接访批次：{report.sessions_held}")
    print(f"  接待人次：{report.citizens_served}（已登记到场 {report.attended}，未登记 {report.unmarked}）")
    print(f"  未到场：{report.no_show}    已取消：{report.cancelled}")
    if report.served_by_matter_type:
        print("  按事项类型（人次）：")
        for matter_type, count in report.served_by_matter_type.items():
            print(f"    {matter_type:<20} {count}")
    if report.unmarked:
        print("  提示：未登记的预约按已接待计入；可用 mark CODE attended|no_show 更正。")
    return 0


def _calendar_check(service: BookingService, args) -> int:
    today = service.now().date()
    end = today + dt.timedelta(days=args.days if args.days is not None else service.rules.booking_window_days)
    warnings = calendar_warnings(today, end)
    if not warnings:
        print(f"节假日数据完整：{today.isoformat()} 至 {end.isoformat()} 均有 chinesecalendar 数据")
        return 0
    for warning in warnings:
        print(f"WARNING: {warning}")
    return 1


def _alerts(service: BookingService, args) -> int:
    alerts = service.alerts.list(include_handled=args.all)
    if not alerts:
        print("没有待处理的提醒")
    for alert in alerts:
        state = "已处理" if alert.handled else "待处理"
        print(f"#{alert.id}  {alert.created_at:%Y-%m-%d %H:%M}  {alert.kind}  {state}  会话 {alert.conversation_id}")
    return 0


def _alert_handled(service: BookingService, args) -> int:
    if not service.alerts.mark_handled(args.id):
        print(f"没有待处理的提醒 #{args.id}", file=sys.stderr)
        return 2
    print(f"提醒 #{args.id} 已处理")
    return 0


def _date(service: BookingService, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    when = parse_date(text, service.now())
    if when is None:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)")
    return when.date


def _closed_label(status) -> str:
    label = REASON_ZH[status.closed_reason.value]
    return f"{label}：{status.note}" if status.note else label


def _day_label(day: dt.date) -> str:
    return f"{day.isoformat()}（{WEEKDAY_NAMES_ZH[day.weekday()]}）"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m actions.admin", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("list", _list, "a day's bookings")
    sub.add_argument("date")
    sub.add_argument("--all", action="store_true", help="include cancelled bookings")
    sub.add_argument("--show-phone", action="store_true", help="print phone numbers in full")
    sub = command("export", _export, "export a day's bookings as CSV for the lawyers")
    sub.add_argument("date")
    sub.add_argument("--csv", required=True, metavar="FILE")
    sub = command("mark", _mark, "record attendance")
    sub.add_argument("code")
    sub.add_argument("status", choices=["attended", "no_show", "booked"])
    sub = command("close", _close, "close a lawyer day")
    sub.add_argument("date")
    sub.add_argument("--reason", required=True)
    sub = command("reopen", _reopen, "undo close")
    sub.add_argument("date")
    command("closures", _closures, "closures to come")
    command("migrate", _migrate, "bring the bookings database's schema up to date (before a deployment)")
    command("purge", _purge, "purge personal data past the retention period")
    sub = command("report", _report, "figures for the half-year report")
    sub.add_argument("--from", dest="start", required=True, metavar="DATE")
    sub.add_argument("--to", dest="end", required=True, metavar="DATE")
    sub = command("calendar-check", _calendar_check, "warn about years without holiday data")
    sub.add_argument("--days", type=int, help="how far ahead to look (default: the booking window)")
    sub = command("alerts", _alerts, "conversations waiting for staff")
    sub.add_argument("--all", action="store_true", help="include handled alerts")
    sub = command("alert-handled", _alert_handled, "close an alert")
    sub.add_argument("id", type=int)
    return parser


if __name__ == "__main__":
    startup_check_or_exit("actions.admin", exit_status=2)  # APP_ENV=production refuses sample values
    sys.exit(main())
