"""CPF (Brazilian taxpayer id): check digits and normalisation.

    >>> cpf_is_valid("52998224725")
    True
    >>> cpf_is_valid("52998224724")
    False
"""
from __future__ import annotations


def cpf_check_digits(first9: str) -> str:
    total = sum(int(d) * w for d, w in zip(first9, range(10, 1, -1)))
    d1 = (total * 10 % 11) % 10
    total = sum(int(d) * w for d, w in zip(first9 + str(d1), range(11, 1, -1)))
    d2 = (total * 10 % 11) % 10
    return f"{d1}{d2}"


def cpf_is_valid(cpf: str) -> bool:
    if len(cpf) != 11 or not (cpf.isascii() and cpf.isdigit()) or cpf == cpf[0] * 11:
        return False
    return cpf_check_digits(cpf[:9]) == cpf[9:]
