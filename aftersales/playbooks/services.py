"""Writes of the playbooks: the starter set (the installation's copy and each shop's), a shop's
own playbook written or replaced, and ticking or unticking a case's step (an event on the
case's timeline)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.cases.access import staff_case
from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput, NotFound, PermissionDenied
from aftersales.core.gate import event_for
from aftersales.core.permissions import permitted
from aftersales.playbooks import selectors
from aftersales.playbooks.choices import STEP_DONE, STEP_UNDONE
from aftersales.playbooks.data.starter import STARTER, TEMPLATES
from aftersales.playbooks.definitions import PlaybookIn, playbook_check
from aftersales.playbooks.models import Playbook, Step, StepDone
from aftersales.playbooks.words import LANGUAGES, language_code, word
from aftersales.team.models import ReplyTemplate

NOTE_LIMIT = 1000

STEP_FIELDS = ("order", "key", "type", "title", "detail", "words", "action", "template")


def _starter_steps(definition: dict) -> list[Step]:
    return [
        Step(
            order=index,
            key=step["key"],
            type=step["type"],
            title=step["title"],
            detail=step.get("detail", ""),
            action=step.get("action", ""),
            template=step.get("template", ""),
            required_before=list(step.get("required_before", [])),
        )
        for index, step in enumerate(definition["steps"], start=1)
    ]


def starter_sync() -> list[Playbook]:
    """The installation's starter playbooks (``shop`` empty), brought up to the data file's
    versions; returns them with their steps."""
    current = {p.key: p for p in selectors.playbooks_loaded(None)}
    for definition in STARTER:
        existing = current.get(definition["key"])
        if existing is not None and existing.version >= definition["version"]:
            continue
        try:
            with transaction.atomic():
                if existing is not None:
                    existing.delete()
                playbook = Playbook.objects.create(
                    shop=None,
                    key=definition["key"],
                    title=definition["title"],
                    is_starter=True,
                    sources=list(definition["sources"]),
                    kind=definition["kind"],
                    reason=definition["reason"],
                    version=definition["version"],
                )
                steps = _starter_steps(definition)
                for step in steps:
                    step.playbook = playbook
                Step.objects.bulk_create(steps)
        except IntegrityError:
            pass  # another process wrote it at the same moment: theirs is as good
    return selectors.playbooks_loaded(None)


@transaction.atomic
def playbooks_seed(*, shop: Shop) -> int:
    """Copy the starter set to a shop that has no playbook yet, with the reply templates its
    steps send; returns how many playbooks were copied. Starter copies are enforced when the
    setting ``PLAYBOOKS_STARTER_ENFORCED`` says so."""
    Shop.objects.select_for_update().filter(pk=shop.pk).first()  # one copy, however many ask
    if Playbook.objects.filter(shop=shop).exists():
        return 0
    starter = starter_sync()
    enforced = bool(getattr(settings, "PLAYBOOKS_STARTER_ENFORCED", False))
    copies = Playbook.objects.bulk_create(
        Playbook(
            shop=shop,
            key=p.key,
            title=p.title,
            words=p.words,
            is_starter=p.is_starter,
            sources=p.sources,
            kind=p.kind,
            reason=p.reason,
            category=p.category,
            version=p.version,
            enforced=enforced,
        )
        for p in starter
    )
    by_key = {copy.key: copy for copy in copies}
    if any(copy.pk is None for copy in copies):  # a database that does not return ids
        by_key = {p.key: p for p in Playbook.objects.filter(shop=shop)}
    Step.objects.bulk_create(
        Step(
            playbook=by_key[p.key],
            required_before=list(step.required_before),
            **{name: getattr(step, name) for name in STEP_FIELDS},
        )
        for p in starter
        for step in p.step_list
    )
    _starter_templates(shop)
    return len(copies)


def _starter_templates(shop: Shop) -> None:
    have = set(ReplyTemplate.objects.filter(shop=shop).values_list("language", "title"))
    ReplyTemplate.objects.bulk_create(
        ReplyTemplate(shop=shop, language=language, title=title, body=body)
        for languages in TEMPLATES.values()
        for language, (title, body) in languages.items()
        if body is not None and (language, title) not in have
    )


def playbooks_ready(*, shop: Shop) -> list[Playbook]:
    """A shop's playbooks with their steps; the starter set is copied on this first use when the
    shop predates it (a shop onboarded since has it already)."""
    playbooks = selectors.playbooks_loaded(shop.pk)
    if not playbooks:
        playbooks_seed(shop=shop)
        playbooks = selectors.playbooks_loaded(shop.pk)
    return playbooks


def require_editor(actor: Principal, shop: Shop) -> None:
    if not actor.can_see_shop(shop.pk):
        raise NotFound(_("No shop %(code)s.") % {"code": shop.code}, code="shop_not_found")
    if not permitted(actor, "playbook.write", shop):
        raise PermissionDenied(
            _("Only the shop's administrators and team leads write playbooks."), code="forbidden"
        )


def _words(texts: dict[str, str], field: str) -> dict:
    return {language: {field: text} for language, text in texts.items() if text}


def _first(texts: dict[str, str]) -> str:
    return next((texts[lang] for lang in ("en", *LANGUAGES) if texts.get(lang)), "")


@transaction.atomic
def playbook_put(*, actor: Principal, shop: Shop, data: PlaybookIn) -> Playbook:
    """Write a shop's playbook, or replace the one with the same key (its version goes up by
    one). Every action, template, kind and reason it names must exist (422 otherwise)."""
    require_editor(actor, shop)
    playbooks_ready(shop=shop)
    playbook_check(data, shop_id=shop.pk)
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    existing = Playbook.objects.filter(shop=shop, key=data.key).first()
    fields = {
        "title": _first(data.title),
        "words": _words(data.title, "title"),
        "is_starter": False,
        "sources": list(data.sources),
        "kind": data.kind,
        "reason": data.reason,
        "category": data.category,
        "enforced": data.enforced,
    }
    if existing is None:
        playbook = Playbook.objects.create(shop=shop, key=data.key, version=1, **fields)
    else:
        playbook = existing
        for name, value in fields.items():
            setattr(playbook, name, value)
        playbook.version += 1
        playbook.save()
        playbook.steps.all().delete()
    Step.objects.bulk_create(
        Step(
            playbook=playbook,
            order=index,
            key=step.key,
            type=step.type,
            title=_first(step.title),
            detail=_first(step.detail),
            words={
                language: {
                    "title": step.title.get(language, ""),
                    "detail": step.detail.get(language, ""),
                }
                for language in LANGUAGES
                if step.title.get(language) or step.detail.get(language)
            },
            action=step.action,
            template=step.template,
            required_before=list(dict.fromkeys(step.required_before)),
        )
        for index, step in enumerate(data.steps, start=1)
    )
    return playbook


@transaction.atomic
def step_set(
    *, actor: Principal, case_id: int, key: str, done: bool, note: str = ""
) -> selectors.Checklist:
    """Tick (``done``) or untick a step of a case's checklist, with a note; an event on the
    case's timeline either way. Ticking a ticked step (or unticking an open one) changes nothing:
    a retried request is harmless."""
    case = staff_case(actor, case_id, "playbook.tick")
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(
            _("The note must be at most %(limit)s characters.") % {"limit": NOTE_LIMIT},
            code="invalid_input",
            field="note",
        )
    checklist = selectors.checklist_of(case, playbooks_ready(shop=case.shop))
    state = next((s for s in checklist.steps if s.key == key), None)
    if state is None:
        raise NotFound(_("This case's playbook has no such step."), code="step_not_found")
    if done == (state.done is not None):
        return checklist
    now = clock.now()
    playbook = checklist.playbook
    title = word(state.step, "title", starter=playbook.is_starter, language=language_code())
    if done:
        state.done = StepDone.objects.create(
            case=case,
            shop_id=case.shop_id,
            step_key=key,
            playbook_key=playbook.key,
            playbook_version=playbook.version,
            done_by_id=actor.user_id,
            done_by_name=actor.username,
            done_at=now,
            note=note,
        )
        text = _("Step done: %(step)s") % {"step": title}
    else:
        state.done.delete()
        state.done = None
        text = _("Step reopened: %(step)s") % {"step": title}
    data = {"step": key, "playbook": playbook.key, "text": text}
    if note:
        data["note"] = note
    event_for(
        case,
        actor=actor,
        action=STEP_DONE if done else STEP_UNDONE,
        from_state=case.state,
        data=data,
        now=now,
    ).save()
    case.save(update_fields=["updated_at"])
    return checklist
