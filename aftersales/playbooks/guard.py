"""The checklist's word in the case's gate (a ``core.lifecycle`` precondition, registered at the
app's start): a staff member's action waits until the steps its enforced playbook requires
before it are done. The sweep's automatic moves never ask, and neither the system nor a
customer is ever refused: a deadline the platform keeps must not wait for a checklist, and a
customer cannot tick the team's."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict
from aftersales.playbooks.definitions import action_label
from aftersales.playbooks.selectors import pending_steps, playbooks_loaded
from aftersales.playbooks.words import word


def steps_done_before(case, *, action: str, actor: Principal, **_context) -> None:
    """Refuse (409 ``playbook_steps_pending``) ``action`` on ``case`` while a step its playbook
    requires before it is not done, naming the steps in words."""
    if not actor.is_staff:
        # The checklist is the team's: a customer's move (or the clock's) never waits on it.
        return
    # The gate reads and never copies the starter set: a shop without playbooks waits for nothing.
    pending = pending_steps(case, action, playbooks_loaded(case.shop_id))
    if not pending:
        return
    starter = pending[0].playbook.is_starter
    raise Conflict(
        _("Before “%(action)s”, finish these steps of the playbook: %(steps)s")
        % {
            "action": action_label(action),
            "steps": "; ".join(word(step, "title", starter=starter) for step in pending),
        },
        code="playbook_steps_pending",
        steps=[step.key for step in pending],
    )
