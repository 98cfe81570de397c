"""The draw of a satisfaction round, apart from the database: strata by (case kind, agent), a quota
per stratum by the largest remainder, and a seeded random sample inside each stratum.

Reproducible: the same candidates, rate and seed give the same sample, whatever order the
candidates came in (strata and their cases are taken in a stable order, by key and by case id).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

# A stored seed stays an exact number in JSON (JavaScript's safe integers) and in a bigint.
SEED_LIMIT = 2**53


@dataclass(frozen=True)
class Candidate:
    """An eligible case: the customer's case that ended in the month."""

    case_id: int
    customer_id: int
    kind: str
    agent_id: int | None

    @property
    def stratum(self) -> tuple[str, int]:
        # No agent sorts first (0 is no user's id).
        return (self.kind, self.agent_id or 0)


def new_seed() -> int:
    return random.SystemRandom().randrange(1, SEED_LIMIT)


def sample_size(rate: Decimal, population: int) -> int:
    """round(rate × population), halves up."""
    return int((rate * population).to_integral_value(rounding=ROUND_HALF_UP))


def quotas(sizes: dict[tuple[str, int], int], rate: Decimal, rng: random.Random) -> dict:
    """How many to draw from each stratum: the floor of rate × size, and the units left to reach
    round(rate × population) go to the largest remainders (equal remainders in a random order
    drawn from ``rng``, so no stratum is favoured by its name)."""
    keys = sorted(sizes)
    exact = {key: rate * sizes[key] for key in keys}
    floors = {key: int(exact[key].to_integral_value(rounding=ROUND_FLOOR)) for key in keys}
    left = sample_size(rate, sum(sizes.values())) - sum(floors.values())
    tiebreak = {key: rng.random() for key in keys}
    by_remainder = sorted(keys, key=lambda key: (-(exact[key] - floors[key]), tiebreak[key]))
    for key in by_remainder[: max(left, 0)]:
        floors[key] += 1
    return floors


def draw(candidates: Iterable[Candidate], rate: Decimal, seed: int) -> list[Candidate]:
    """The stratified sample, in case id order."""
    strata: dict[tuple[str, int], list[Candidate]] = {}
    for candidate in sorted(candidates, key=lambda c: c.case_id):
        strata.setdefault(candidate.stratum, []).append(candidate)
    rng = random.Random(seed)
    wanted = quotas({key: len(rows) for key, rows in strata.items()}, rate, rng)
    chosen: list[Candidate] = []
    for key in sorted(strata):
        chosen.extend(rng.sample(strata[key], wanted[key]))
    return sorted(chosen, key=lambda c: c.case_id)
