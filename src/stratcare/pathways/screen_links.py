"""The CDS Hooks ``smart`` link that opens the capture page from a card asking for a screen.

CDS Hooks 2.0 (Link): ``type`` ``smart`` means the EHR launches ``url`` as a SMART app (EHR launch:
``launch`` and ``iss`` appended) and hands ``appContext`` to the app in the token response. Here ``url`` is
the capture page's launch URL (``/capture/launch``, a deployment setting) and ``appContext`` a JSON object
as a string:

``questionnaire``
    The Questionnaire to show, ``url|version``.
``patient``
    The patient the card is about; the capture page refuses a launch whose token names another.
``encounter``
    The encounter in context, when the call had one (the launch's own ``encounter`` wins).
``workflowPoint``
    Where in the visit the screen was prompted (CodeSystem workflow-point), recorded with the response.
"""

from __future__ import annotations

import json

from stratcare.cdshooks.models import Link
from stratcare.pathways.definition import ScreenSpec


def screen_link(
    screen: ScreenSpec,
    launch_url: str,
    patient_id: str,
    encounter_id: str | None,
    workflow_point: str,
) -> Link:
    context: dict[str, str] = {"questionnaire": screen.questionnaire, "patient": patient_id}
    if encounter_id:
        context["encounter"] = encounter_id
    context["workflowPoint"] = workflow_point
    return Link(
        label=f"Open the screen for the patient to answer now ({screen.title})",
        url=launch_url,
        type="smart",
        appContext=json.dumps(context, separators=(",", ":")),
    )
