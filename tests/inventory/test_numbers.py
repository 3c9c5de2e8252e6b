import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from inventory.models import NumberBlock
from inventory.numbers import parse_number_spec, validate_destination

AMSTERDAM = NumberBlock(country="NL", city="Amsterdam", area_code="20")
NL_MOBILE = NumberBlock(country="NL", area_code="", number_type="mobile")
NEW_YORK = NumberBlock(country="US", city="New York", area_code="212")


def messages(exc_info):
    return " ".join(exc_info.value.messages)


def test_one_number():
    assert parse_number_spec("+31205550000", block=AMSTERDAM) == ["+31205550000"]


def test_spaces_inside_a_number_are_ignored():
    assert parse_number_spec(" +31 20 555 0000 ", block=AMSTERDAM) == ["+31205550000"]


def test_list_on_lines_and_commas_keeps_input_order():
    spec = "+31205550009\n+31205550001, +31205550005\n\n"
    assert parse_number_spec(spec, block=AMSTERDAM) == [
        "+31205550009",
        "+31205550001",
        "+31205550005",
    ]


def test_full_range_is_inclusive():
    numbers = parse_number_spec("+31205550000-+31205550999", block=AMSTERDAM)
    assert len(numbers) == 1000
    assert numbers[0] == "+31205550000"
    assert numbers[-1] == "+31205550999"


def test_short_form_appends_local_digits_to_country_and_area_code():
    assert parse_number_spec("5550111-5550222", block=AMSTERDAM) == parse_number_spec(
        "+31205550111-+31205550222", block=AMSTERDAM
    )
    assert parse_number_spec("5550100", block=NEW_YORK) == ["+12125550100"]


def test_short_form_without_area_code_is_the_national_number():
    assert parse_number_spec("612345000-612345002", block=NL_MOBILE) == [
        "+31612345000",
        "+31612345001",
        "+31612345002",
    ]


def test_short_form_too_short_to_be_valid_names_the_token():
    with pytest.raises(ValidationError) as exc_info:
        parse_number_spec("111-222", block=AMSTERDAM)
    assert "Line 1 “111-222”" in messages(exc_info)
    assert "+3120111 is not a valid phone number" in messages(exc_info)


def test_reversed_range():
    with pytest.raises(ValidationError) as exc_info:
        parse_number_spec("+31205550000\n+31205550999-+31205550000", block=AMSTERDAM)
    assert "Line 2" in messages(exc_info)
    assert "reversed" in messages(exc_info)


def test_range_ends_of_different_length():
    with pytest.raises(ValidationError, match="same number of digits"):
        parse_number_spec("+49301234500-+493012345000", block=NumberBlock(country="DE"))


def test_too_many_numbers_fails_before_generating_them(settings):
    settings.DID_ADD_MAX = 100_000
    with pytest.raises(ValidationError) as exc_info:
        # 10 million numbers: would take long to build if the check came after.
        parse_number_spec("+31200000000-+31209999999", block=AMSTERDAM)
    assert "At most 100,000" in messages(exc_info)
    assert "10,000,000" in messages(exc_info)


def test_limit_counts_the_whole_request(settings):
    settings.DID_ADD_MAX = 1000
    spec = "+31205550000-+31205550599\n+31205551000-+31205551599"
    with pytest.raises(ValidationError, match="Line 2 .*1,200"):
        parse_number_spec(spec, block=AMSTERDAM)
    assert len(parse_number_spec(spec, block=AMSTERDAM, max_count=1200)) == 1200


def test_exactly_the_limit_is_accepted():
    numbers = parse_number_spec("+31205550000-+31205550009", block=AMSTERDAM, max_count=10)
    assert len(numbers) == 10


def test_wrong_country_is_refused():
    with pytest.raises(ValidationError) as exc_info:
        parse_number_spec("+31205550000, +442079460000", block=AMSTERDAM)
    assert "“+442079460000”" in messages(exc_info)
    assert "is a GB number; this block is in NL" in messages(exc_info)


def test_crown_dependency_number_is_not_a_gb_number():
    with pytest.raises(ValidationError, match="is a GG number"):
        parse_number_spec("+447911123000", block=NumberBlock(country="GB"))


def test_number_outside_the_area_code_is_refused():
    with pytest.raises(ValidationError, match="does not start with \\+3120"):
        parse_number_spec("+31105550000", block=AMSTERDAM)


def test_invalid_and_garbage_tokens_are_each_named():
    with pytest.raises(ValidationError) as exc_info:
        parse_number_spec("+31205550000\nhello\n+3120555-", block=AMSTERDAM)
    assert len(exc_info.value.messages) == 2
    assert "Line 2 “hello”: hello is not a phone number." in exc_info.value.messages
    assert "Line 3" in exc_info.value.messages[1]


def test_duplicates_within_the_input():
    with pytest.raises(ValidationError) as exc_info:
        parse_number_spec("+31205550000-+31205550010\n+31205550005", block=AMSTERDAM)
    assert exc_info.value.messages == [
        "Line 2 “+31205550005”: +31205550005 is already listed on line 1."
    ]


def test_empty_spec():
    with pytest.raises(ValidationError, match="at least one number"):
        parse_number_spec(" \n , ", block=AMSTERDAM)


def test_non_canonical_number_is_refused_with_the_canonical_form():
    with pytest.raises(ValidationError):
        parse_number_spec("+310205550000", block=AMSTERDAM)


@given(
    start=st.integers(min_value=5_550_000, max_value=5_559_000),
    count=st.integers(min_value=1, max_value=999),
)
def test_range_is_every_number_between_the_ends(start, count):
    lower, upper = start, start + count - 1
    numbers = parse_number_spec(f"+3120{lower}-+3120{upper}", block=AMSTERDAM)
    assert numbers == [f"+3120{n}" for n in range(lower, upper + 1)]
    assert numbers == parse_number_spec(f"{lower}-{upper}", block=AMSTERDAM)
    assert len(set(numbers)) == count


@given(
    lower=st.integers(min_value=5_550_000, max_value=5_559_999),
    upper=st.integers(min_value=5_550_000, max_value=5_559_999),
)
def test_range_is_accepted_only_in_ascending_order(lower, upper):
    if lower <= upper:
        assert len(parse_number_spec(f"{lower}-{upper}", block=AMSTERDAM)) == upper - lower + 1
    else:
        with pytest.raises(ValidationError, match="reversed"):
            parse_number_spec(f"{lower}-{upper}", block=AMSTERDAM)


@pytest.mark.parametrize(
    "value", ["", "+31205550000", "sip:4420@pbx.example.com", "sips:office@10.0.0.1:5061"]
)
def test_good_destinations(value):
    validate_destination(value)


@pytest.mark.parametrize("value", ["0205550000", "+0123", "sip:nohost", "http://x", "sip:a b@x"])
def test_bad_destinations(value):
    with pytest.raises(ValidationError):
        validate_destination(value)
