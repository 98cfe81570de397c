"""Notices about any subject: the kinds each app registers (who reads them, their subject line),
the unsaved outbox row a move queues, and the composers that turn a batch of them into messages.

Apps register at import (``notice_kinds(...)``, ``register_composer(...)``); the kernel refuses to
queue a kind nobody registered, so every notice a move queues has its words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.db import models

from aftersales.core import clock
from aftersales.core.bulk import bulk_insert_rows
from aftersales.core.models import Notice


@dataclass(frozen=True)
class NoticeKind:
    code: str
    audience: str  # core.models.Audience
    # The e-mail's subject line, with ``%(number)s`` for the subject's number.
    subject: Any
    # What the notice tells its reader, for the staff's list and the body of its message.
    summary: Any


_KINDS: dict[str, NoticeKind] = {}


def notice_kinds(*kinds: NoticeKind) -> None:
    for kind in kinds:
        existing = _KINDS.get(kind.code)
        if existing is not None and existing != kind:
            raise ImproperlyConfigured(f"notice kind {kind.code} registered twice")
        _KINDS[kind.code] = kind


def notice_kind(code: str) -> NoticeKind:
    try:
        return _KINDS[code]
    except KeyError:
        raise ImproperlyConfigured(f"notice kind {code} is not registered") from None


def registered_kinds() -> dict[str, NoticeKind]:
    return dict(_KINDS)


def notice_build(
    subject: models.Model,
    code: str,
    payload: dict | None = None,
    *,
    recipient_id: int | None = None,
) -> Notice:
    """An unsaved notice about ``subject``; the caller writes it in the transaction that makes
    the change. The payload keeps the subject's number and state at the moment of the change.
    ``recipient_id``: the one member of staff it is for (else its kind's audience)."""
    kind = notice_kind(code)
    return Notice(
        recipient_id=recipient_id,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        shop_id=subject.shop_id,
        audience=kind.audience,
        kind=code,
        payload={
            "number": getattr(subject, "number", str(subject.pk)),
            "state": getattr(subject, "state", ""),
            **(payload or {}),
        },
        created_at=clock.now(),
    )


def notices_save(notices: Sequence[Notice]) -> None:
    """Write notices in the caller's transaction. The worker's delivery step
    (``notify.deliveries.deliveries_sweep``) plans their deliveries in batches once they are
    committed, so a change never waits on its e-mails, texts and webhooks."""
    if not notices:
        return
    bulk_insert_rows(Notice, notices, with_ids=True)


class Composer(Protocol):
    """Turns notices about one kind of subject into messages: ``prepare`` reads what the batch
    needs in a few queries, ``email`` builds one notice's message (``None``: no address)."""

    def prepare(self, notices: Sequence[Notice]) -> Any: ...

    def email(self, notice: Notice, prepared: Any) -> EmailMessage | None: ...


_COMPOSERS: dict[str, Composer] = {}


def register_composer(model: type[models.Model], composer: Composer) -> None:
    _COMPOSERS[model._meta.label_lower] = composer


def composer_for(subject_type: ContentType) -> Composer | None:
    return _COMPOSERS.get(f"{subject_type.app_label}.{subject_type.model}")


def kinds_of(codes: Iterable[str]) -> list[NoticeKind]:
    return [notice_kind(code) for code in codes]
