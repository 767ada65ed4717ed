"""CPF check digits, against an independent implementation of the Receita
Federal algorithm (remainder of the weighted sum by 11; below 2 gives 0)."""
from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from ccplane.features.persons.domain import cpf_check_digits, cpf_is_valid
from ccplane.features.persons.schemas import PersonCreate


def check_digit(digits: str) -> str:
    weights = range(len(digits) + 1, 1, -1)
    remainder = sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return "0" if remainder < 2 else str(11 - remainder)


def make_cpf(first9: str) -> str:
    first10 = first9 + check_digit(first9)
    return first10 + check_digit(first10)


def reference_valid(cpf: str) -> bool:
    return (len(cpf) == 11 and cpf.isascii() and cpf.isdigit() and len(set(cpf)) > 1
            and make_cpf(cpf[:9]) == cpf)


_rng = random.Random(20240611)
SEEDS = ["529982247", "111444777", "123456789", "000000001", "987654321", "100000000", "390533447",
         *("".join(_rng.choice("0123456789") for _ in range(9)) for _ in range(40))]
VALID = [c for c in (make_cpf(s) for s in SEEDS) if len(set(c)) > 1]


def test_reference_implementation_knows_published_examples() -> None:
    assert make_cpf("529982247") == "52998224725"
    assert make_cpf("111444777") == "11144477735"
    assert make_cpf("123456789") == "12345678909"


@pytest.mark.parametrize("cpf", VALID)
def test_generated_cpfs_are_valid(cpf: str) -> None:
    assert cpf_is_valid(cpf) is True
    assert cpf_check_digits(cpf[:9]) == cpf[9:]


def test_check_digits_match_the_reference_everywhere() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        first9 = "".join(rng.choice("0123456789") for _ in range(9))
        assert cpf_check_digits(first9) == make_cpf(first9)[9:], first9


def test_both_check_digit_branches_are_covered() -> None:
    # remainder 0 or 1 gives 0, remainder 10 gives 1, the others 11 - remainder
    firsts = {c[9] for c in VALID}
    seconds = {c[10] for c in VALID}
    assert {"0", "1"} <= firsts and {"0", "1"} <= seconds and len(firsts) >= 6


@pytest.mark.parametrize("cpf", VALID)
def test_every_single_digit_change_agrees_with_the_reference(cpf: str) -> None:
    for i in range(11):
        for d in "0123456789":
            if d != cpf[i]:
                changed = cpf[:i] + d + cpf[i + 1:]
                assert cpf_is_valid(changed) is reference_valid(changed), changed


@pytest.mark.parametrize("cpf", [c for c in VALID if c[9] != "0"])
def test_every_single_digit_change_is_invalid(cpf: str) -> None:
    # Holds whenever the first check digit is not 0; see the next test for the exception.
    for i in range(11):
        for d in "0123456789":
            if d != cpf[i]:
                assert cpf_is_valid(cpf[:i] + d + cpf[i + 1:]) is False, (i, d)


def test_the_algorithms_own_blind_spot_is_kept() -> None:
    # With a first check digit of 0 (remainder 0 or 1), changing the first digit by one flips that
    # remainder and weight 11 cancels it in the second sum: both numbers are valid for the Receita
    # Federal, so they must be for us too.
    assert reference_valid("70499962206") and reference_valid("80499962206")
    assert cpf_is_valid("70499962206") and cpf_is_valid("80499962206")


@pytest.mark.parametrize("digit", "0123456789")
def test_repeated_digits_are_invalid(digit: str) -> None:
    cpf = digit * 11
    assert cpf_check_digits(cpf[:9]) == cpf[9:]  # they pass the arithmetic...
    assert cpf_is_valid(cpf) is False             # ...and are refused anyway


@pytest.mark.parametrize("bad", ["", "5299822472", "529982247250", "052998224725", "529.982.247-25",
                                 "529982247-25", " 52998224725", "52998224725 ", "5299822472a", "+5299822472",
                                 "-5299822472", "52998224725\n"])
def test_wrong_length_or_non_digits_are_invalid(bad: str) -> None:
    assert cpf_is_valid(bad) is False


@pytest.mark.parametrize("bad", ["²2998224725", "٥٢٩٩٨٢٢٤٧25"])
def test_non_ascii_digits_are_invalid(bad: str) -> None:
    assert cpf_is_valid(bad) is False


def test_schema_refuses_bad_check_digits_and_formatting() -> None:
    body = {"name": "Maria", "phone": "11987654321", "password": "s3cret-pass"}
    assert PersonCreate(cpf="52998224725", **body).cpf == "52998224725"
    for bad in ("52998224724", "11111111111", "529.982.247-25", "٥٢٩٩٨٢٢٤٧25"):
        with pytest.raises(ValidationError):
            PersonCreate(cpf=bad, **body)
