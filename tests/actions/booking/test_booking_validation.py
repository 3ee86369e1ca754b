import pytest

from actions.booking.errors import InvalidName, InvalidPhone, InvalidSummary, Reason
from actions.booking.validation import find_phone, mask_phone, validate_name, validate_phone, validate_summary


@pytest.mark.parametrize(
    "text",
    ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678",
     "008613812345678", "１３８１２３４５６７８", " 13812345678 "],
)
def test_china_mobile_numbers_are_normalised(text):
    assert validate_phone(text) == "13812345678"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", Reason.INVALID_PHONE),
        ("12345", Reason.INVALID_PHONE),
        ("1381234567", Reason.INVALID_PHONE),      # ten digits
        ("12345678901", Reason.INVALID_PHONE),
        ("电话号码", Reason.INVALID_PHONE),
        ("138abc45678", Reason.INVALID_PHONE),
        ("010-12345678", Reason.NOT_MOBILE),       # a Beijing landline
        ("+852 9123 4567", Reason.NOT_MOBILE),     # Hong Kong
    ],
)
def test_invalid_phone_numbers(text, reason):
    with pytest.raises(InvalidPhone) as error:
        validate_phone(text)
    assert error.value.reason == reason


def test_find_phone_in_free_text():
    assert find_phone("下周三上午十点，我叫王建国，电话138 1234 5678") == "13812345678"
    assert find_phone("没有电话") is None


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "***********78"  # 13 digits: all but the last two hidden
    assert mask_phone("12345") == "***45"
    assert mask_phone(None) == ""


@pytest.mark.parametrize(
    "text, name",
    [
        ("王建国", "王建国"),
        ("李娜", "李娜"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("王先生", "王先生"),
        ("欧阳女士", "欧阳女士"),
        ("李阿姨", "李阿姨"),
        ("张大爷", "张大爷"),
        ("我叫王建国", "王建国"),
        ("我是李女士。", "李女士"),
        ("买买提·艾力", "买买提·艾力"),
        (" 王 建国 ", "王建国"),
        ("俺姓刘 刘老汉", "刘老汉"),
        ("老刘", "老刘"),
        ("刘大爷", "刘大爷"),
        ("姓刘，叫建国", "刘建国"),
        ("我姓刘 叫我老刘就行", "老刘"),
        ("王建国吧", "王建国"),
    ],
)
def test_names(text, name):
    assert validate_name(text) == name


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", Reason.INVALID_NAME),
        ("王", Reason.INVALID_NAME),
        ("123", Reason.INVALID_NAME),
        ("王1", Reason.INVALID_NAME),
        ("wang", Reason.INVALID_NAME),
        ("！！！", Reason.INVALID_NAME),
        ("不知道", Reason.INVALID_NAME),
        ("我不想说", Reason.INVALID_NAME),
        ("保密", Reason.INVALID_NAME),
        ("13812345678", Reason.INVALID_NAME),
        ("王建国王建国", Reason.INVALID_NAME),  # six characters are asked about kindly, never "too long"
        ("王建国李秀英张三丰赵六", Reason.NAME_TOO_LONG),
        ("我姓刘", Reason.SURNAME_ONLY),
    ],
)
def test_not_names(text, reason):
    with pytest.raises(InvalidName) as error:
        validate_name(text)
    assert error.value.reason == reason


def test_summaries():
    assert validate_summary("  工资被拖欠\n三个月  ") == "工资被拖欠 三个月"
    assert validate_summary("欠" * 200) == "欠" * 200
    for empty in ("", "   ", "\n", "。。。"):
        with pytest.raises(InvalidSummary) as error:
            validate_summary(empty)
        assert error.value.reason == Reason.EMPTY_SUMMARY
    with pytest.raises(InvalidSummary) as error:
        validate_summary("欠" * 201)
    assert error.value.reason == Reason.SUMMARY_TOO_LONG
