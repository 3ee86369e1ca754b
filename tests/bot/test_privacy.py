"""Phone and ID numbers are masked in what is stored and logged; personal slots are encrypted."""

import logging

import pytest

from bot.privacy import SlotCipher, install_log_masking, mask_personal_numbers


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我电话13812345678", "我电话138****5678"),
        ("电话 138 1234 5678，谢谢", "电话 138****5678，谢谢"),
        ("+86 138-1234-5678", "138****5678"),
        ("００８６１３８１２３４５６７８", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("身份证11010519491231002X号", "身份证**************002X号"),
        ("身份证号110105194912310021", "身份证号**************0021"),
        ("座机0571-88888888", "座机057****8888"),
        ("王建国13812345678工资被拖欠", "王建国138****5678工资被拖欠"),
    ],
)
def test_personal_numbers_are_masked(text, expected):
    assert mask_personal_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "预约码 WQZ68P，12月2日上午10:00",
        "2026-12-02 10:00",
        "拖欠工资 123456 元",
        "第31条第（一）项",
        "订单号 1234567890123456789012",  # too long to be a phone or an ID number
        "",
    ],
)
def test_other_numbers_are_left_alone(text):
    assert mask_personal_numbers(text) == text


def test_values_that_are_not_text_pass_through():
    assert mask_personal_numbers(None) is None
    assert mask_personal_numbers(13812345678) == 13812345678


def test_the_cipher_round_trips_and_refuses_other_keys():
    cipher = SlotCipher("secret shared by the replicas")
    stored = cipher.encrypt("13812345678")
    assert stored.startswith(SlotCipher.PREFIX) and "13812345678" not in stored
    assert cipher.decrypt(stored) == "13812345678"
    assert cipher.encrypt(stored) == stored  # never encrypted twice
    assert SlotCipher("another key").decrypt(stored) is None
    assert cipher.decrypt("plain value") == "plain value"
    assert cipher.encrypt(None) is None


def test_a_shared_store_needs_the_key(monkeypatch):
    monkeypatch.delenv("TRACKER_ENCRYPTION_KEY", raising=False)
    with pytest.raises(RuntimeError, match="TRACKER_ENCRYPTION_KEY"):
        SlotCipher.from_environment(required=True)
    assert SlotCipher.from_environment(required=False).decrypt("x") == "x"


def test_log_records_are_masked_whoever_writes_them(caplog):
    install_log_masking()
    install_log_masking()  # idempotent
    with caplog.at_level(logging.INFO):
        logging.getLogger("sanic.access").info("POST from %s: %s", "user", "我电话13812345678")
        logging.getLogger("rasa.core").info("ID 11010519491231002X")
    assert "13812345678" not in caplog.text and "138****5678" in caplog.text
    assert "11010519491231002X" not in caplog.text and "002X" in caplog.text
