"""Which agent gets a piece of work: a pure function over the candidates' loads, caps, skills
and last assignment, so the database code and the fairness simulation pick alike.

- round robin: whoever has waited longest since their last assignment (never assigned first),
  counted in the shop's turns;
- least loaded: whoever holds the least open work, then who waited longest;
- skills: the agents whose skills fit the work best, then as least loaded; when nobody's skills
  fit at all, simply least loaded.

Only candidates under their cap are considered; ties end on the user id, so a pick never
depends on the order the candidates came in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aftersales.routing.choices import Strategy


@dataclass(frozen=True)
class Need:
    """What a piece of work asks of whoever works it."""

    kind: str = ""
    reason: str = ""
    categories: frozenset[str] = frozenset()
    language: str = ""


@dataclass(frozen=True)
class Skills:
    kinds: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()

    def fit(self, need: Need) -> int:
        """How well the skills fit: a matching language outweighs everything else (an agent
        who cannot write to the customer is no help), then the kind, the reason, a category."""
        return (
            8 * (need.language in self.languages)
            + 4 * (need.kind in self.kinds)
            + 2 * (need.reason in self.reasons)
            + 1 * bool(need.categories & self.categories)
        )


@dataclass
class Candidate:
    """An agent on duty, as the pick sees them; ``load`` and ``last_turn`` (0: never given work)
    move as a batch hands out work."""

    user_id: int
    username: str
    load: int
    capacity: int
    last_turn: int = 0
    skills: Skills = field(default_factory=Skills)

    @property
    def has_room(self) -> bool:
        return self.load < self.capacity

    def took(self, turn: int) -> None:
        self.load += 1
        self.last_turn = turn


def _waited(candidate: Candidate) -> tuple:
    return (candidate.last_turn, candidate.user_id)


def _lightest(candidate: Candidate) -> tuple:
    return (candidate.load, *_waited(candidate))


def pick(strategy: str, candidates: Iterable[Candidate], need: Need | None = None):
    """The candidate to give the work to, or ``None`` when nobody has room."""
    room = [c for c in candidates if c.has_room]
    if not room:
        return None
    if strategy == Strategy.ROUND_ROBIN:
        return min(room, key=_waited)
    if strategy == Strategy.SKILLS and need is not None:
        best = max(c.skills.fit(need) for c in room)
        if best > 0:
            room = [c for c in room if c.skills.fit(need) == best]
    return min(room, key=_lightest)
