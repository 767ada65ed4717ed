from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from ..common import Input, Name, NotNull, Password
from .domain import cpf_is_valid

Cpf = Annotated[str, StringConstraints(min_length=11, max_length=11, pattern=r"^[0-9]{11}$")]
Phone = Annotated[str, StringConstraints(min_length=10, max_length=11, pattern=r"^[1-9][1-9][0-9]{8,9}$")]


def _check_cpf(value: str | None) -> str | None:
    if value is not None and not cpf_is_valid(value):
        raise ValueError("CPF check digits do not match")
    return value


class PersonCreate(Input):
    name: Name
    cpf: Cpf
    phone: Phone
    password: Password
    active: bool = True
    notes: Annotated[str, Field(max_length=5000)] = ""

    _cpf = field_validator("cpf")(_check_cpf)


class PersonUpdate(Input):
    name: NotNull[Name] = None
    cpf: NotNull[Cpf] = None
    phone: NotNull[Phone] = None
    password: NotNull[Password] = None
    active: NotNull[bool] = None
    notes: NotNull[Annotated[str, Field(max_length=5000)]] = None

    _cpf = field_validator("cpf")(_check_cpf)


class PersonOut(BaseModel):
    id: int
    name: str
    cpf: str
    phone: str
    active: bool
    notes: str
