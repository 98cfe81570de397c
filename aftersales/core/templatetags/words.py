"""Words for values the pages would otherwise show raw."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from aftersales.core.actors import SYSTEM

register = template.Library()


@register.filter
def actor_words(name: str) -> str:
    """A timeline entry's actor as people read it: the worker's automatic moves in words, not
    the system account's name."""
    return _("Automatic") if name == SYSTEM.username else name
