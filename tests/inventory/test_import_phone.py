"""The import's compiled number check agrees with phonenumbers itself."""

import random

import phonenumbers
import pytest

from inventory.importing.phone import country_numbers, slow_error

REGIONS = [
    "NL", "US", "CA", "GB", "IM", "JE", "GG", "DE", "FR", "BE", "IT", "ES", "AU", "AR", "MX",
    "BR", "IN", "RU", "KZ", "SE", "NO", "SJ", "FI", "AX", "CH", "AT", "PL", "JP", "CN", "ZA",
    "GP", "BL", "SX", "RE", "YT", "PR", "DO", "VA", "SG", "HK", "NZ", "IE",
]  # fmt: skip


def near_valid_numbers(region, rng, per_example=60):
    """Example numbers of every type with random digits changed, added or dropped."""
    for kind in phonenumbers.PhoneNumberType.values():
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        yield e164
        for _ in range(per_example):
            digits = list(e164[1:])
            for _ in range(rng.randint(1, 3)):
                position = rng.randrange(len(digits))
                action = rng.random()
                if action < 0.7:
                    digits[position] = str(rng.randrange(10))
                elif action < 0.85 and len(digits) < 15:
                    digits.insert(position, str(rng.randrange(10)))
                elif len(digits) > 4:
                    del digits[position]
            yield "+" + "".join(digits).lstrip("0")


@pytest.mark.parametrize("region", REGIONS)
def test_compiled_check_agrees_with_phonenumbers(region):
    rng = random.Random(region)
    checker = country_numbers(region)
    matches = checker.matcher()
    seen = valid = 0
    for number in near_valid_numbers(region, rng):
        if not number.startswith(checker.prefix) or len(number) < 4:
            continue
        seen += 1
        by_phonenumbers = slow_error(number, region) is None
        valid += by_phonenumbers
        if matches(number):
            assert by_phonenumbers, number
        else:
            # Refused by the regex: either phonenumbers refuses it too, or it is one of the
            # numbers left to phonenumbers' parser (and error() then asks phonenumbers).
            assert checker.error(number) == slow_error(number, region), number
        assert (checker.error(number) is None) == by_phonenumbers, number
    assert seen > 50 and valid > 3


def test_area_code_is_part_of_the_match():
    matches = country_numbers("NL").matcher("20")
    assert matches("+31205550000")
    assert not matches("+31105550000")
    assert not matches("+3120555000")  # too short
    assert not matches("+310205550000")  # trunk 0: left to phonenumbers, which refuses it
    assert slow_error("+310205550000", "NL") == "write +310205550000 as +31205550000."


def test_shared_calling_code_goes_to_the_right_country():
    assert country_numbers("US").error("+14165550123") == "+14165550123 is a CA number, not US."
    assert country_numbers("CA").error("+14165550123") is None
    assert country_numbers("GB").error("+447624123456") == "+447624123456 is a IM number, not GB."


def test_unknown_country():
    assert country_numbers("AQ") is None
