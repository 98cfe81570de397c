"""A playbook as a shop writes it (the API's body), and its checks: every action, template, kind
and reason it names must exist. The starter set is read through the same checks."""

from __future__ import annotations

from typing import Annotated, Literal

from django.utils.translation import gettext as _
from pydantic import Field, StrictBool, StringConstraints

from aftersales.cases.choices import Action, CaseKind, Reason
from aftersales.cases.lifecycle import USER_ACTIONS
from aftersales.core.errors import InvalidInput
from aftersales.core.schemas import Input
from aftersales.playbooks.choices import StepType
from aftersales.playbooks.data.starter import TEMPLATES
from aftersales.team.models import ReplyTemplate

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,50}$")]
Language = Literal["zh-hans", "en"]


def _text(limit: int, minimum: int = 1):
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=minimum, max_length=limit)
    ]


StepTitle = _text(300)
StepDetail = _text(2000, 0)
PlaybookTitle = _text(200)
Category = _text(100, 0)
Source = _text(300)
ActionName = Annotated[str, StringConstraints(max_length=30)]


class PlaybookStepIn(Input):
    key: Key = Field(title="Step key")
    type: StepType = Field(title="Step type")
    title: dict[Language, StepTitle] = Field(min_length=1, title="Words per language")
    detail: dict[Language, StepDetail] = Field(default_factory=dict)
    action: ActionName = ""
    template: Annotated[str, StringConstraints(max_length=200)] = ""
    required_before: list[ActionName] = Field(default_factory=list, max_length=20)


class PlaybookIn(Input):
    key: Key = Field(title="Playbook key")
    title: dict[Language, PlaybookTitle] = Field(min_length=1)
    kind: Annotated[str, StringConstraints(max_length=20)] = ""
    reason: Annotated[str, StringConstraints(max_length=30)] = ""
    category: Category = ""
    sources: list[Source] = Field(default_factory=list, max_length=10)
    enforced: StrictBool = False
    steps: list[PlaybookStepIn] = Field(min_length=1, max_length=30)


def _action_known(action: str, where: str) -> None:
    if action not in USER_ACTIONS:
        raise InvalidInput(
            _("There is no case action “%(action)s” a person can take.") % {"action": action},
            code="unknown_action",
            field=where,
        )


def template_known(template: str, *, shop_id: int | None) -> bool:
    """A starter template's key, or the title of one of the shop's reply templates."""
    if template in TEMPLATES:
        return True
    return (
        shop_id is not None
        and ReplyTemplate.objects.filter(shop_id=shop_id, title=template).exists()
    )


def playbook_check(data: PlaybookIn, *, shop_id: int | None) -> None:
    """Refuse (422) a playbook that names what does not exist, or a step twice."""
    if data.kind and data.kind not in CaseKind.values:
        raise InvalidInput(
            _("Kind must be one of: %(choices)s.")
            % {"choices": " / ".join(str(label) for _value, label in CaseKind.choices)},
            code="invalid_kind",
            field="kind",
        )
    if data.reason and data.reason not in Reason.values:
        raise InvalidInput(
            _("Reason must be one of: %(choices)s.")
            % {"choices": " / ".join(str(label) for _value, label in Reason.choices)},
            code="invalid_reason",
            field="reason",
        )
    seen: set[str] = set()
    for index, step in enumerate(data.steps):
        where = f"steps.{index}"
        if step.key in seen:
            raise InvalidInput(
                _("The step key %(key)s is used twice.") % {"key": step.key},
                code="duplicate_step",
                field=f"{where}.key",
            )
        seen.add(step.key)
        if step.type == StepType.ACTION or step.action:
            if not step.action:
                raise InvalidInput(
                    _("An action step names the case action to take."),
                    code="action_required",
                    field=f"{where}.action",
                )
            _action_known(step.action, f"{where}.action")
        if step.type == StepType.TEMPLATE or step.template:
            if not step.template:
                raise InvalidInput(
                    _("A reply step names the reply template to send."),
                    code="template_required",
                    field=f"{where}.template",
                )
            if not template_known(step.template, shop_id=shop_id):
                raise InvalidInput(
                    _("There is no reply template “%(template)s” in this shop.")
                    % {"template": step.template},
                    code="unknown_template",
                    field=f"{where}.template",
                )
        for action in step.required_before:
            _action_known(action, f"{where}.required_before")


def action_label(action: str) -> str:
    return str(Action(action).label) if action in Action.values else action
