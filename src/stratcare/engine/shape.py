"""A cheap structural check of a prefetched resource: the JSON types of the elements the decision reads.

Full fhir.resources validation costs 0.1–1.75 ms per resource, too much on every hook call. This checks,
for the resource types the decision uses, that each element it may read has the JSON shape FHIR R4 gives
it: a list where the element repeats, an object where it is a datatype, a string, boolean or number where
it is a primitive, with dates and dateTimes in FHIR's lexical form. Inside a datatype every member is
checked and an unknown member is refused (``{"a": 1}`` is not a CodeableConcept); on the resource itself an
unknown or unchecked element is tolerated, because the decision never reads it. ``extension``, ``meta``,
``text`` and ``contained`` are left to the empty-element scan (see ``record``), which covers every member.

The specs were written from the FHIR R4 resource definitions; tests check them against fhir.resources on
the shipped requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[object, str], str | None]
"""Returns the path of the first misfit in ``value`` (given its own path), or None."""

_DATE = re.compile(r"^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")
_DATE_TIME = re.compile(
    r"^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$"
)
_CODE = re.compile(r"^[^\s]+( [^\s]+)*$")


def _string(value: object, path: str) -> str | None:
    return None if isinstance(value, str) and value else path


def _code(value: object, path: str) -> str | None:
    return None if isinstance(value, str) and _CODE.match(value) else path


def _boolean(value: object, path: str) -> str | None:
    return None if isinstance(value, bool) else path


def _integer(value: object, path: str) -> str | None:
    return None if isinstance(value, int) and not isinstance(value, bool) else path


def _decimal(value: object, path: str) -> str | None:
    return None if isinstance(value, int | float) and not isinstance(value, bool) else path


def _pattern(pattern: re.Pattern[str]) -> Check:
    def check(value: object, path: str) -> str | None:
        return None if isinstance(value, str) and pattern.match(value) else path

    return check


def _anything(_value: object, _path: str) -> str | None:
    return None


_date = _pattern(_DATE)
_date_time = _pattern(_DATE_TIME)


def _many(item: Check) -> Check:
    def check(value: object, path: str) -> str | None:
        if not isinstance(value, list):
            return path
        for index, member in enumerate(value):
            misfit = item(member, f"{path}.{index}")
            if misfit is not None:
                return misfit
        return None

    return check


def _datatype(members: Mapping[str, Check], *, strict: bool = True) -> Check:
    """An object whose members fit ``members``; with ``strict``, no other member (``_x`` and ``id`` and
    ``extension`` are always allowed: any element may carry them)."""

    def check(value: object, path: str) -> str | None:
        if not isinstance(value, dict):
            return path
        for name, member in value.items():
            where = f"{path}.{name}" if path else str(name)
            member_check = members.get(name)
            if member_check is None:
                if strict and not (name in _ALWAYS_ALLOWED or str(name).startswith("_")):
                    return where
                continue
            misfit = member_check(member, where)
            if misfit is not None:
                return misfit
        return None

    return check


_ALWAYS_ALLOWED = frozenset({"id", "extension", "modifierExtension", "fhir_comments"})

_CODING = _datatype(
    {"system": _string, "version": _string, "code": _code, "display": _string, "userSelected": _boolean}
)
_CODEABLE_CONCEPT = _datatype({"coding": _many(_CODING), "text": _string})
_PERIOD = _datatype({"start": _date_time, "end": _date_time})
_IDENTIFIER = _datatype(
    {
        "use": _code,
        "type": _CODEABLE_CONCEPT,
        "system": _string,
        "value": _string,
        "period": _PERIOD,
        "assigner": _anything,
    }
)
_REFERENCE = _datatype({"reference": _string, "type": _string, "identifier": _IDENTIFIER, "display": _string})
_QUANTITY = _datatype(
    {"value": _decimal, "comparator": _code, "unit": _string, "system": _string, "code": _code}
)
_RANGE = _datatype({"low": _QUANTITY, "high": _QUANTITY})
_ANNOTATION = _datatype(
    {"authorReference": _REFERENCE, "authorString": _string, "time": _date_time, "text": _string}
)
_ATTACHMENT = _datatype(
    {
        "contentType": _code,
        "language": _code,
        "data": _string,
        "url": _string,
        "size": _integer,
        "hash": _string,
        "title": _string,
        "creation": _date_time,
    }
)
_HUMAN_NAME = _datatype(
    {
        "use": _code,
        "text": _string,
        "family": _string,
        "given": _many(_string),
        "prefix": _many(_string),
        "suffix": _many(_string),
        "period": _PERIOD,
    }
)
_TIMING = _datatype({"event": _many(_date_time), "repeat": _anything, "code": _CODEABLE_CONCEPT})

_ANSWER_VALUES: dict[str, Check] = {
    "valueBoolean": _boolean,
    "valueDecimal": _decimal,
    "valueInteger": _integer,
    "valueDate": _date,
    "valueDateTime": _date_time,
    "valueTime": _string,
    "valueString": _string,
    "valueUri": _string,
    "valueAttachment": _ATTACHMENT,
    "valueCoding": _CODING,
    "valueQuantity": _QUANTITY,
    "valueReference": _REFERENCE,
}


def _response_item(value: object, path: str) -> str | None:
    return _RESPONSE_ITEM(value, path)


_ANSWER = _datatype({**_ANSWER_VALUES, "item": _many(_response_item)})
_RESPONSE_ITEM = _datatype(
    {
        "linkId": _string,
        "definition": _string,
        "text": _string,
        "answer": _many(_ANSWER),
        "item": _many(_response_item),
    }
)

_COMMON: dict[str, Check] = {"id": _string, "implicitRules": _string, "language": _code}

_RESOURCES: dict[str, Check] = {
    "Patient": _datatype(
        {
            **_COMMON,
            "identifier": _many(_IDENTIFIER),
            "active": _boolean,
            "name": _many(_HUMAN_NAME),
            "gender": _code,
            "birthDate": _date,
            "deceasedBoolean": _boolean,
            "deceasedDateTime": _date_time,
            "generalPractitioner": _many(_REFERENCE),
            "managingOrganization": _REFERENCE,
        },
        strict=False,
    ),
    "Encounter": _datatype(
        {
            **_COMMON,
            "identifier": _many(_IDENTIFIER),
            "status": _code,
            "class": _CODING,
            "type": _many(_CODEABLE_CONCEPT),
            "serviceType": _CODEABLE_CONCEPT,
            "priority": _CODEABLE_CONCEPT,
            "subject": _REFERENCE,
            "participant": _many(_anything),
            "appointment": _many(_REFERENCE),
            "period": _PERIOD,
            "reasonCode": _many(_CODEABLE_CONCEPT),
            "reasonReference": _many(_REFERENCE),
            "serviceProvider": _REFERENCE,
            "partOf": _REFERENCE,
        },
        strict=False,
    ),
    "QuestionnaireResponse": _datatype(
        {
            **_COMMON,
            "identifier": _IDENTIFIER,
            "basedOn": _many(_REFERENCE),
            "partOf": _many(_REFERENCE),
            "questionnaire": _string,
            "status": _code,
            "subject": _REFERENCE,
            "encounter": _REFERENCE,
            "authored": _date_time,
            "author": _REFERENCE,
            "source": _REFERENCE,
            "item": _many(_RESPONSE_ITEM),
        },
        strict=False,
    ),
    "Condition": _datatype(
        {
            **_COMMON,
            "identifier": _many(_IDENTIFIER),
            "clinicalStatus": _CODEABLE_CONCEPT,
            "verificationStatus": _CODEABLE_CONCEPT,
            "category": _many(_CODEABLE_CONCEPT),
            "severity": _CODEABLE_CONCEPT,
            "code": _CODEABLE_CONCEPT,
            "bodySite": _many(_CODEABLE_CONCEPT),
            "subject": _REFERENCE,
            "encounter": _REFERENCE,
            "onsetDateTime": _date_time,
            "onsetAge": _QUANTITY,
            "onsetPeriod": _PERIOD,
            "onsetRange": _RANGE,
            "onsetString": _string,
            "abatementDateTime": _date_time,
            "abatementAge": _QUANTITY,
            "abatementPeriod": _PERIOD,
            "abatementRange": _RANGE,
            "abatementString": _string,
            "recordedDate": _date_time,
            "recorder": _REFERENCE,
            "asserter": _REFERENCE,
            "note": _many(_ANNOTATION),
        },
        strict=False,
    ),
    "ServiceRequest": _datatype(
        {
            **_COMMON,
            "identifier": _many(_IDENTIFIER),
            "instantiatesCanonical": _many(_string),
            "instantiatesUri": _many(_string),
            "basedOn": _many(_REFERENCE),
            "replaces": _many(_REFERENCE),
            "requisition": _IDENTIFIER,
            "status": _code,
            "intent": _code,
            "category": _many(_CODEABLE_CONCEPT),
            "priority": _code,
            "doNotPerform": _boolean,
            "code": _CODEABLE_CONCEPT,
            "orderDetail": _many(_CODEABLE_CONCEPT),
            "subject": _REFERENCE,
            "encounter": _REFERENCE,
            "occurrenceDateTime": _date_time,
            "occurrencePeriod": _PERIOD,
            "occurrenceTiming": _TIMING,
            "authoredOn": _date_time,
            "requester": _REFERENCE,
            "performerType": _CODEABLE_CONCEPT,
            "performer": _many(_REFERENCE),
            "reasonCode": _many(_CODEABLE_CONCEPT),
            "reasonReference": _many(_REFERENCE),
            "note": _many(_ANNOTATION),
        },
        strict=False,
    ),
}

CHECKED_TYPES = frozenset(_RESOURCES)


def misshapen_element(resource: Mapping[str, Any]) -> str | None:
    """Where ``resource`` (of a type in ``CHECKED_TYPES``) has an element of the wrong shape, else None."""
    check = _RESOURCES.get(resource.get("resourceType", ""))
    if check is None:
        return "resourceType"
    return check(resource, "")
