"""The moves through the complaint-handling stages: take it up (contact the customer and record
the complaint), record the root cause, decide the solution, carry it out and inform the customer,
and the follow-up's answer that closes it; or the customer withdraws it.

Each stage entered starts its due time from the policy (``enter_stage``); the kernel's deadline
for it is the reminder at half of that time (``complaints.lifecycle``).
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_noop

from aftersales.cases.moves.common import labelled, required_text, text
from aftersales.complaints.choices import STAGE_TIMEOUTS, ComplaintState, Satisfaction, Solution
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.policy import rules as policy_rules
from aftersales.team.models import ContactChannel

StaffNote = text(2000, gettext_noop("Internal note"), widget="textarea")


def stage_timeout(complaint, name: str) -> dt.timedelta:
    return policy_rules.timeout(complaint.policy, name)


def enter_stage(complaint, ctx: Context, state: str) -> None:
    """The complaint moves into ``state``: its stage starts now and is due after the stage's
    policy timeout, counted on the complaint's calendar (no due time once it has ended)."""
    complaint.stage_started_at = ctx.now
    name = STAGE_TIMEOUTS.get(state)
    complaint.due_at = (
        ctx.lifecycle.deadline_after(complaint, ctx.now, stage_timeout(complaint, name))
        if name
        else None
    )


def _note(ctx: Context) -> None:
    if ctx.input.note:
        ctx.event_data["note"] = ctx.input.note


def _take_ownership(complaint, ctx: Context) -> None:
    # Whoever takes an unowned complaint up owns it from then on (its reminders go to them).
    if complaint.owner_id is None and ctx.actor.is_staff and ctx.actor.user_id is not None:
        complaint.owner_id = ctx.actor.user_id
        ctx.event_data["owner"] = ctx.actor.username


# --- received → analysing ----------------------------------------------------------------------


class AcknowledgeIn(ActionInput):
    """The shop contacted the customer and took the complaint up (受理)."""

    channel: labelled(ContactChannel, gettext_noop("Channel"))
    note: StaffNote = ""


def acknowledge(complaint, ctx: Context) -> None:
    complaint.acknowledged_at = ctx.now
    _take_ownership(complaint, ctx)
    enter_stage(complaint, ctx, ComplaintState.ANALYSING)
    ctx.event_data["channel"] = ctx.input.channel
    _note(ctx)
    ctx.notices.append("complaint_acknowledged")


# --- analysing → deciding ----------------------------------------------------------------------


class AnalyseIn(ActionInput):
    """Why it happened: the root cause, for the team and its reports."""

    root_cause: required_text(2000, gettext_noop("Root cause"), widget="textarea")
    note: StaffNote = ""


def analyse(complaint, ctx: Context) -> None:
    complaint.root_cause = ctx.input.root_cause
    _take_ownership(complaint, ctx)
    enter_stage(complaint, ctx, ComplaintState.DECIDING)
    ctx.event_data["root_cause"] = ctx.input.root_cause
    _note(ctx)


# --- deciding → executing ----------------------------------------------------------------------


class DecideIn(ActionInput):
    """The solution (refund, exchange, coupon, apology or another), told to the customer."""

    solution_kind: labelled(Solution, gettext_noop("Solution"))
    solution: required_text(
        2000, gettext_noop("The solution, as the customer reads it"), widget="textarea"
    )
    note: StaffNote = ""


def decide(complaint, ctx: Context) -> None:
    complaint.solution_kind = ctx.input.solution_kind
    complaint.solution = ctx.input.solution
    _take_ownership(complaint, ctx)
    enter_stage(complaint, ctx, ComplaintState.EXECUTING)
    ctx.event_data.update(solution_kind=ctx.input.solution_kind, solution=ctx.input.solution)
    _note(ctx)
    ctx.notices.append("complaint_solution")


# --- executing → following up ------------------------------------------------------------------


class ExecuteIn(ActionInput):
    """The solution was carried out: what was done, as the customer is told."""

    outcome: required_text(
        2000, gettext_noop("What was done, as the customer reads it"), widget="textarea"
    )
    note: StaffNote = ""


def execute(complaint, ctx: Context) -> None:
    complaint.outcome = ctx.input.outcome
    _take_ownership(complaint, ctx)
    enter_stage(complaint, ctx, ComplaintState.FOLLOWING_UP)
    ctx.event_data["outcome"] = ctx.input.outcome
    _note(ctx)
    ctx.notices.append("complaint_executed")


# --- following up → closed ---------------------------------------------------------------------


class AnswerIn(ActionInput):
    """The customer's answer to the follow-up (theirs, or as the shop heard it on a call)."""

    answer: labelled(Satisfaction, gettext_noop("Satisfied with how it was handled?"))
    note: text(2000, gettext_noop("Anything to add"), widget="textarea") = ""


def answer(complaint, ctx: Context) -> None:
    complaint.answer = ctx.input.answer
    complaint.answer_note = ctx.input.note
    enter_stage(complaint, ctx, ComplaintState.CLOSED)
    ctx.event_data["answer"] = ctx.input.answer
    if ctx.input.note:
        ctx.event_data["answer_note"] = ctx.input.note
    ctx.notices.append("complaint_answered")


# --- withdrawn ---------------------------------------------------------------------------------


class WithdrawIn(ActionInput):
    """The customer withdraws the complaint while it is open."""

    reason: text(2000, gettext_noop("Reason"), widget="textarea") = ""


def withdraw(complaint, ctx: Context) -> None:
    enter_stage(complaint, ctx, ComplaintState.WITHDRAWN)
    if ctx.input.reason:
        ctx.event_data["reason"] = ctx.input.reason
    ctx.notices.append("complaint_withdrawn")
