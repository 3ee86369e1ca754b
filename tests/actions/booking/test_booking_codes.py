from actions.booking.codes import ALPHABET, LENGTH, new_code, normalize_code


def test_codes_are_short_and_unambiguous():
    assert not set("01OIL") & set(ALPHABET)
    generated = {new_code() for _ in range(2000)}
    assert all(len(code) == LENGTH and set(code) <= set(ALPHABET) for code in generated)
    assert len(generated) > 1990  # drawn from 31**6 codes: repeats are very rare


def test_normalize_code():
    assert normalize_code(" ab-c2 34 ") == "ABC234"
    assert normalize_code("ＡＢＣ２３４") == "ABC234"
    assert normalize_code("ABC23") is None
    assert normalize_code("ABC230") is None  # 0 is not in the alphabet
    assert normalize_code("") is None
