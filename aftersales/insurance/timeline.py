"""What a caller may read of a cover's and a flag's timeline. The buyer sees the quote (with its
inputs), the insurance and the claims; the real postage the shop recorded is the shop's check.
Flags are read by the platform's operators only."""

from __future__ import annotations

from collections.abc import Iterable

from aftersales.core.actors import Principal
from aftersales.core.timeline import STAFF_ONLY, TimelineEntry, customer_visible, entries_for
from aftersales.insurance.choices import CoverAction, FlagAction

COVER_VISIBILITY = {
    CoverAction.QUOTE: customer_visible(),
    CoverAction.REQUOTE: customer_visible(),
    CoverAction.INSURE: customer_visible(),
    CoverAction.CLAIM: customer_visible(),
    CoverAction.RECORD_POSTAGE: STAFF_ONLY,
    CoverAction.LAPSE: customer_visible(),
}
# Only the platform's operators read flags at all (``insurance_flag.read``); they are not shop
# staff, so the kernel's "staff only" would hide the whole timeline from them.
FLAG_VISIBILITY = dict.fromkeys(FlagAction.values, customer_visible())


def cover_entries(principal: Principal, events: Iterable) -> list[TimelineEntry]:
    return entries_for(
        principal, events, visibility=COVER_VISIBILITY, labels=dict(CoverAction.choices)
    )


def flag_entries(principal: Principal, events: Iterable) -> list[TimelineEntry]:
    return entries_for(
        principal, events, visibility=FLAG_VISIBILITY, labels=dict(FlagAction.choices)
    )
