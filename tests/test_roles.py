"""The one matrix (``core.permissions``), tested as a matrix: every action × every role through
the API (allowed → not 403; refused → 403 with its code), the desk pages offering exactly the
permitted actions, the lifecycle tables reading their roles from it, roles per shop, and the
audit log of every change of a role."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from PIL import Image

from aftersales.cases.lifecycle import CASES, SYSTEM
from aftersales.cases.models import Case
from aftersales.catalog.models import Order, Product
from aftersales.complaints.lifecycle import COMPLAINTS
from aftersales.complaints.models import Complaint
from aftersales.core.actors import Role
from aftersales.core.permissions import MATRIX, Scope, roles_for
from aftersales.team.models import AuditEntry, ShopRole
from aftersales.team.roles_doc import roles_markdown
from aftersales.team.selectors import principal_for_token
from aftersales.team.workbench import assign, note_add
from tests.conftest import make_order, make_shop, make_user, open_case

ROLES = (
    "installation_admin",
    "admin",
    "lead",
    "agent",
    "finance",
    "logistics",
    "technician",
    "platform_operator",
    "customer",
)
TIED_TO_NO_SHOP = {"installation_admin", "platform_operator"}


def expected(action: str, who: str) -> str:
    """What the matrix says ``who`` (a key of ``ROLES``) may do with ``action`` in the shop."""
    role = Role.ADMIN if who == "installation_admin" else who
    scope = MATRIX[action].grants.get(role)
    if scope is None or (scope == Scope.ALL and who not in TIED_TO_NO_SHOP):
        return "refused"
    return "allowed"


@pytest.fixture
def people(db, clock):
    make_shop("shop")
    return {
        "installation_admin": make_user("root", "admin"),
        "admin": make_user("boss", "admin", shop="shop"),
        "lead": make_user("lead", "lead", shop="shop"),
        "agent": make_user("agent", "agent", shop="shop"),
        "finance": make_user("finance", "finance", shop="shop"),
        "logistics": make_user("logistics", "logistics", shop="shop"),
        "technician": make_user("technician", "technician", shop="shop"),
        "platform_operator": make_user("operator", "platform_operator"),
        "customer": make_user("buyer", "customer", shop="shop", customer="C1"),
    }


def verdict(response, refusal_code: str) -> str:
    if response.status_code == 403:
        assert response.json()["code"] == refusal_code, response.content
        return "refused"
    assert response.status_code < 500, response.content
    return "allowed"


# --- one source of truth ---------------------------------------------------------------------


@pytest.mark.parametrize("lifecycle", [CASES, COMPLAINTS], ids=["case", "complaint"])
def test_the_tables_take_their_roles_from_the_matrix(lifecycle):
    # given a lifecycle's person moves and the matrix's rows for its subject
    person = [m for m in lifecycle.moves if m.roles != SYSTEM]
    rows = {a for a in MATRIX if a.startswith(f"{lifecycle.subject_type}.")}
    rows = {a for a in rows if a.partition(".")[2] in lifecycle.actions}
    # then every person move has exactly its row's roles, and every row is a person action
    assert {m.action: m.roles for m in person} == {
        m.action: roles_for(f"{lifecycle.subject_type}.{m.action}") for m in person
    }
    assert rows == {f"{lifecycle.subject_type}.{m.action}" for m in person}


def test_no_role_of_the_matrix_is_unknown_and_every_scope_is_a_scope():
    assert {role for row in MATRIX.values() for role in row.grants} <= set(Role.values)
    assert {scope for row in MATRIX.values() for scope in row.grants.values()} <= set(Scope.values)


def test_docs_roles_md_is_what_the_command_writes(tmp_path):
    # given the page in the repository
    from django.conf import settings

    on_disk = (settings.BASE_DIR / "docs" / "roles.md").read_text(encoding="utf-8")
    # when the command writes it anew
    output = tmp_path / "roles.md"
    call_command("roles_doc", output=str(output), stdout=io.StringIO())
    # then they are the same (run `aftersales roles_doc` after changing the matrix)
    assert output.read_text(encoding="utf-8") == on_disk
    with translation.override("en"):
        assert on_disk == roles_markdown()


def test_the_page_names_every_role_and_action_in_words():
    with translation.override("en"):
        text = roles_markdown()
        labels = {role: str(role.label) for role in Role}
    for role in Role:
        assert f"| {labels[role]} | `{role.value}` |" in text
    assert "| Case: Approve (`case.approve`) | their shops | their shops | their shops | — |" in (
        text
    )
    assert "| Create shops (`shop.create`) | all shops | — |" in text


def test_the_page_is_written_in_chinese_too():
    output = io.StringIO()
    call_command("roles_doc", output="-", language="zh-hans", stdout=output)
    assert output.getvalue().startswith("# ")


# --- the tables' actions through the API --------------------------------------------------------

CASE_BODIES = {
    "reject": {"reason": "x"},
    "ship_return": {"carrier": "SF", "tracking_number": "SF1"},
    "refund": {"idempotency_key": "k"},
    "convert": {"kind": "exchange", "reason": "x"},
    "ship_replacement": {"carrier": "SF", "tracking_number": "SF2"},
    "offer": {"note": "x"},
    "diagnose": {"diagnosed_by": "shop", "fault_code": "F"},
    "ship_back": {"carrier": "SF", "tracking_number": "SF3"},
}
CASE_ACTIONS = sorted(
    a.partition(".")[2]
    for a in MATRIX
    if a.startswith("case.") and a[5:] in (CASES.actions - {CASES.opening.action})
)


@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_every_role_takes_exactly_the_case_actions_the_matrix_gives_it(people, action):
    # given a customer's case
    number = open_case(people["customer"], make_order())["number"]
    # when each role takes the action (a refusal by the state, 409, is not one by the role)
    seen = {
        who: verdict(
            people[who].act(number, action, CASE_BODIES.get(action, {})), "action_forbidden"
        )
        for who in ROLES
    }
    # then the roles refused are those the matrix refuses
    assert seen == {who: expected(f"case.{action}", who) for who in ROLES}


COMPLAINT_BODIES = {
    "acknowledge": {"channel": "call"},
    "analyse": {"root_cause": "x"},
    "decide": {"solution_kind": "coupon", "solution": "x"},
    "execute": {"outcome": "x"},
    "answer": {"answer": "satisfied"},
    "assign": {"owner": "agent"},
    "link": {"order_number": "O1"},
}
COMPLAINT_ACTIONS = sorted(
    a.partition(".")[2]
    for a in MATRIX
    if a.startswith("complaint.") and a[10:] in COMPLAINTS.actions - {"file"}
)


@pytest.mark.parametrize("action", COMPLAINT_ACTIONS)
def test_every_role_takes_exactly_the_complaint_actions_the_matrix_gives_it(people, action):
    # given a customer's complaint
    filed = people["customer"].post("/complaints", {"type": "attitude", "description": "x"})
    number = filed.json()["number"]
    # when each role takes the action
    seen = {
        who: verdict(
            people[who].post(
                f"/complaints/{number}/actions/{action}", COMPLAINT_BODIES.get(action, {})
            ),
            "action_forbidden",
        )
        for who in ROLES
    }
    # then the roles refused are those the matrix refuses
    assert seen == {who: expected(f"complaint.{action}", who) for who in ROLES}


@pytest.mark.parametrize(("action", "path"), [("case.open", "/cases"), ("complaint.file", "")])
def test_opening_follows_the_matrix(people, action, path):
    order = make_order()
    line = order.lines.get()
    seen = {}
    for who in ROLES:
        if action == "case.open":
            body = {
                "order_id": order.id,
                "kind": "refund_only",
                "reason": "missing_item",
                "lines": [{"order_line_id": line.id, "quantity": 1}],
            }
            response = people[who].post("/cases", body)
        else:
            body = {"order_id": order.id, "type": "not_as_described", "description": "x"}
            response = people[who].post("/complaints", body)
        seen[who] = verdict(response, "action_forbidden")
    assert seen == {who: expected(action, who) for who in ROLES}


# --- the operations beside the tables through the API --------------------------------------------


def _png() -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (4, 4)).save(data, "PNG")
    return SimpleUploadedFile("x.png", data.getvalue(), content_type="image/png")


def _order_body() -> dict:
    line = {
        "external_id": "1",
        "sku": "S",
        "title": "t",
        "quantity": 1,
        "unit_price": "1",
        "paid_amount": "1",
    }
    return {"shop": "shop", "external_id": "NEW", "customer": {"external_id": "N"}, "lines": [line]}


def _call(api, operation: str, number: str):
    if operation in ("evidence.upload", "evidence.inspection"):
        purpose = "inspection" if operation == "evidence.inspection" else "application"
        return api.client.post(
            f"/api/v1/cases/{number}/evidence", {"file": _png(), "purpose": purpose}
        )
    method, path, body = {
        "policy.write": ("put", "/shops/shop/policy", {"no_reason_days": 10}),
        "shop.manage": ("post", "/shops/shop/service-centers", {"name": "n", "address": "a"}),
        "shop.create": ("post", "/shops", {"code": "new", "name": "新店"}),
        "stock.read": ("get", "/skus/SKU-1", {"shop": "shop"}),
        "stock.write": ("put", "/skus/SKU-1/stock", {"stock": 5, "shop": "shop"}),
        "invoice.read": ("get", "/invoices", {}),
        "order.import": ("post", "/orders", _order_body()),
        "compensation.grant": (
            "post",
            f"/cases/{number}/compensations",
            {"reason": "goodwill", "kind": "coupon", "amount": "1.00"},
        ),
        "compensation.counterfeit": (
            "post",
            f"/cases/{number}/compensations",
            {"reason": "counterfeit", "kind": "store_credit"},
        ),
        "case.receiving_desk": ("get", "/cases/lookup", {"code": number}),
        "team.read": ("get", "/shops/shop/team", {}),
        "team.manage": ("put", "/shops/shop/team/newbie", {"role": "agent"}),
    }[operation]
    if method == "get":
        return api.get(path, **body)
    return getattr(api, method)(path, body)


API_OPERATIONS = (
    "policy.write",
    "shop.manage",
    "shop.create",
    "stock.read",
    "stock.write",
    "invoice.read",
    "order.import",
    "compensation.grant",
    "compensation.counterfeit",
    "evidence.upload",
    "evidence.inspection",
    "case.receiving_desk",
    "team.read",
    "team.manage",
)


@pytest.mark.parametrize("operation", API_OPERATIONS)
def test_every_role_does_exactly_the_operations_the_matrix_gives_it(people, operation):
    # given a customer's case and a member of staff to add to the team
    number = open_case(people["customer"], make_order())["number"]
    make_user("newbie", "agent")
    # when each role asks for the operation
    seen = {who: verdict(_call(people[who], operation, number), "forbidden") for who in ROLES}
    # then the roles refused are those the matrix refuses
    assert seen == {who: expected(operation, who) for who in ROLES}


@pytest.mark.parametrize("operation", ["note.write", "assign", "case.rate"])
def test_the_workbench_services_follow_the_matrix(people, operation):
    from aftersales.core.errors import ApplicationError, PermissionDenied
    from aftersales.feedback.services import rating_add

    case = Case.objects.get(number=open_case(people["customer"], make_order())["number"])
    seen = {}
    for who in ROLES:
        principal = people[who].principal
        try:
            if operation == "note.write":
                note_add(actor=principal, subject_type="case", subject_id=case.id, text="x")
            elif operation == "assign":
                assign(actor=principal, subject_type="case", subject_ids=[case.id], username=None)
            else:
                rating_add(actor=principal, case_id=case.id, score=5, reasons=[])
            seen[who] = "allowed"
        except PermissionDenied:
            seen[who] = "refused"
        except ApplicationError:
            seen[who] = "allowed"  # refused for the case's state, not for the role
    assert seen == {who: expected(operation, who) for who in ROLES}


# --- the desk's pages --------------------------------------------------------------------------

FORM = re.compile(r'id="action-([a-z_]+)"')


def _desk(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


USERNAMES = {
    "installation_admin": "root",
    "admin": "boss",
    "lead": "lead",
    "agent": "agent",
    "finance": "finance",
    "logistics": "logistics",
    "technician": "technician",
    "platform_operator": "operator",
}


def test_the_desk_lets_in_exactly_the_roles_the_matrix_gives_it(people):
    seen = {}
    for who, username in {**USERNAMES, "customer": "buyer"}.items():
        response = _desk(username).get("/desk/")
        seen[who] = "allowed" if response.status_code == 200 else "refused"
    assert seen == {who: expected("desk.use", who) for who in ROLES}


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        ("return_refund", "awaiting_seller"),
        ("return_refund", "return_in_transit"),
        ("return_refund", "inspecting"),
        ("return_refund", "refund_pending"),
        ("exchange", "replacement_pending"),
        ("repair", "diagnosing"),
        ("repair", "repairing"),
    ],
)
def test_the_case_page_offers_each_role_exactly_its_permitted_actions(people, kind, state):
    # given a case in the state
    order = make_order()
    Product.objects.update(warranty_days=365)
    number = open_case(people["customer"], order, kind=kind)["number"]
    Case.objects.filter(number=number).update(state=state)
    for who, username in USERNAMES.items():
        # when the role opens its page
        html = _desk(username).get(f"/desk/cases/{number}/").content.decode()
        # then it offers the actions of the state the matrix gives the role, and the forms
        # beside them as the matrix says
        offered = set(FORM.findall(html))
        moves = {m.action for m in CASES.by_state[state] if m.roles != SYSTEM}
        role = Role.ADMIN if who == "installation_admin" else who
        assert offered == {a for a in moves if role in MATRIX[f"case.{a}"].grants}, who
        for form, action in (("note", "note.write"), ("flag", "case.flag"), ("assign", "assign")):
            shown = f"/desk/cases/{number}/{form}/" in html
            assert shown == (expected(action, who) == "allowed"), (who, form)


def test_the_complaint_page_offers_each_role_exactly_its_permitted_actions(people):
    filed = people["customer"].post("/complaints", {"type": "attitude", "description": "x"})
    number = filed.json()["number"]
    moves = {m.action for m in COMPLAINTS.by_state["received"] if m.roles != SYSTEM}
    for who, username in USERNAMES.items():
        html = _desk(username).get(f"/desk/complaints/{number}/").content.decode()
        role = Role.ADMIN if who == "installation_admin" else who
        expected_forms = {a for a in moves if role in MATRIX[f"complaint.{a}"].grants}
        assert set(FORM.findall(html)) == expected_forms, who


# --- a role per shop ---------------------------------------------------------------------------


@pytest.fixture
def two_shops(people):
    make_shop("second")
    boss = make_user("boss2", "admin", shop="second")
    # the agent of "shop" is the team lead of "second"
    assert boss.put("/shops/second/team/agent", {"role": "lead"}).status_code == 200
    return boss


def test_a_member_holds_a_role_in_each_shop(people, two_shops):
    principal = principal_for_token(people["agent"].token)
    shop, second = (
        ShopRole.objects.get(shop__code=c, membership__user__username="agent").shop_id
        for c in ("shop", "second")
    )
    assert principal.shop_roles == {shop: "agent", second: "lead"}
    assert (principal.role_in(shop), principal.role_in(second), principal.role) == (
        "agent",
        "lead",
        "agent",
    )


def test_a_check_about_a_subject_uses_the_role_in_its_shop(people, two_shops):
    # given a member who is an agent in "shop" and the lead in "second"
    agent = people["agent"]
    # when they read each shop's team
    # then only the shop where they lead shows it
    assert agent.get("/shops/second/team").status_code == 200
    assert agent.get("/shops/shop/team").json()["code"] == "forbidden"
    # and a counterfeit ten-fold (a lead's decision) is theirs only in "second"
    make_order(shop="second", external_id="O2", customer="C2")
    buyer2 = make_user("buyer2", "customer", shop="second", customer="C2")
    case2 = open_case(buyer2, _order("second", "O2"))
    case1 = open_case(people["customer"], make_order())
    body = {"reason": "counterfeit", "kind": "store_credit"}
    assert agent.post(f"/cases/{case1['number']}/compensations", body).status_code == 403
    assert agent.post(f"/cases/{case2['number']}/compensations", body).status_code == 422


def _order(shop, external_id):
    return Order.objects.get(shop__code=shop, external_id=external_id)


def test_the_timeline_records_the_role_held_in_the_subjects_shop(people, two_shops):
    make_order(shop="second", external_id="O2", customer="C2")
    buyer2 = make_user("buyer2", "customer", shop="second", customer="C2")
    number = open_case(buyer2, _order("second", "O2"), kind="refund_only")["number"]
    assert people["agent"].act(number, "approve").status_code == 200
    assert Case.objects.get(number=number).events.get(action="approve").role == "lead"


def test_a_role_in_one_shop_opens_nothing_in_another(people):
    # given a logistics member of "shop" and a case of another shop
    make_shop("second")
    make_order(shop="second", external_id="O2", customer="C2")
    buyer2 = make_user("buyer2", "customer", shop="second", customer="C2")
    number = open_case(buyer2, _order("second", "O2"))["number"]
    # when they act on it, then it does not exist for them
    response = people["logistics"].act(number, "approve")
    assert (response.status_code, response.json()["code"]) == (404, "case_not_found")


# --- the team and its audit log ------------------------------------------------------------------


def _audit(shop_code: str) -> list[tuple]:
    return list(
        AuditEntry.objects.filter(shop__code=shop_code)
        .order_by("id")
        .values_list("member_name", "actor_name", "change", "role_before", "role_after")
    )


def test_creating_users_is_on_the_audit_log(people):
    assert _audit("shop") == [
        ("boss", "system", "granted", "", "admin"),
        ("lead", "system", "granted", "", "lead"),
        ("agent", "system", "granted", "", "agent"),
        ("finance", "system", "granted", "", "finance"),
        ("logistics", "system", "granted", "", "logistics"),
        ("technician", "system", "granted", "", "technician"),
        ("buyer", "system", "granted", "", "customer"),
    ]
    tied_to_none = AuditEntry.objects.filter(shop=None).order_by("id")
    assert [(e.member_name, e.role_after) for e in tied_to_none] == [
        ("root", "admin"),
        ("operator", "platform_operator"),
    ]


def test_each_change_of_the_team_is_one_audit_entry(people, clock):
    # given the shop's admin and a member of staff of no team yet
    boss = people["admin"]
    make_user("newbie", "agent")
    AuditEntry.objects.all().delete()
    # when the admin adds them, gives them the same role again, changes it, and takes it back
    added = boss.put("/shops/shop/team/newbie", {"role": "agent"})
    again = boss.put("/shops/shop/team/newbie", {"role": "agent"})
    changed = boss.put("/shops/shop/team/newbie", {"role": "technician"})
    removed = boss.delete("/shops/shop/team/newbie")
    # then each answers, and the audit has three entries (the repeat changed nothing)
    assert [r.status_code for r in (added, again, changed, removed)] == [200, 200, 200, 204]
    assert changed.json() == {
        "username": "newbie",
        "role": "technician",
        "role_label": "Technician (diagnosis and repair)",
    }
    assert _audit("shop") == [
        ("newbie", "boss", "granted", "", "agent"),
        ("newbie", "boss", "changed", "agent", "technician"),
        ("newbie", "boss", "revoked", "technician", ""),
    ]
    # and the API lists them with who, when, before and after
    listed = boss.get("/shops/shop/audit").json()
    assert [
        (e["member"], e["actor"], e["change"], e["role_before"], e["role_after"])
        for e in (listed["items"])
    ] == [
        ("newbie", "boss", "granted", None, "agent"),
        ("newbie", "boss", "changed", "agent", "technician"),
        ("newbie", "boss", "revoked", "technician", None),
    ]
    assert listed["items"][0]["at"] == "2026-11-24T02:00:00Z"
    assert listed["items"][0]["change_label"] == "Role given"
    assert listed["next_cursor"] is None
    assert not ShopRole.objects.filter(membership__user__username="newbie").exists()


def test_the_team_lists_each_member_with_the_role_in_this_shop(people):
    team = people["lead"].get("/shops/shop/team").json()["items"]
    assert [(m["username"], m["role"]) for m in team] == [
        ("agent", "agent"),
        ("boss", "admin"),
        ("finance", "finance"),
        ("lead", "lead"),
        ("logistics", "logistics"),
        ("technician", "technician"),
    ]


@pytest.mark.parametrize(
    ("who", "method", "username", "body", "status", "code"),
    [
        # a lead gives and takes back only the roles under their own
        ("lead", "put", "agent", {"role": "lead"}, 403, "role_beyond_your_own"),
        ("lead", "put", "agent", {"role": "admin"}, 403, "role_beyond_your_own"),
        ("lead", "put", "finance", {"role": "agent"}, 403, "role_beyond_your_own"),
        ("lead", "put", "boss", {"role": "agent"}, 403, "role_beyond_your_own"),
        ("lead", "delete", "boss", None, 403, "role_beyond_your_own"),
        ("lead", "delete", "lead", None, 403, "role_beyond_your_own"),
        # the shop keeps its last administrator
        ("admin", "put", "boss", {"role": "agent"}, 409, "last_admin"),
        ("admin", "delete", "boss", None, 409, "last_admin"),
        ("installation_admin", "delete", "boss", None, 409, "last_admin"),
        # only staff join a team, with a role of a shop
        ("admin", "put", "buyer", {"role": "agent"}, 422, "not_staff"),
        ("admin", "put", "root", {"role": "agent"}, 422, "not_staff"),
        ("admin", "put", "operator", {"role": "agent"}, 422, "not_staff"),
        ("admin", "put", "agent", {"role": "customer"}, 422, "validation_error"),
        ("admin", "put", "agent", {"role": "platform_operator"}, 422, "validation_error"),
        ("admin", "put", "nobody", {"role": "agent"}, 404, "user_not_found"),
        ("admin", "delete", "root", None, 404, "member_not_found"),
        # the others may not change the team at all
        ("agent", "put", "finance", {"role": "agent"}, 403, "forbidden"),
        ("platform_operator", "put", "finance", {"role": "agent"}, 403, "forbidden"),
    ],
)
def test_team_changes_beyond_the_limits_are_refused_and_change_nothing(
    people, who, method, username, body, status, code
):
    before = list(ShopRole.objects.order_by("id").values_list("membership_id", "shop_id", "role"))
    audit_before = AuditEntry.objects.count()
    api = people[who]
    response = (
        api.put(f"/shops/shop/team/{username}", body)
        if method == "put"
        else (api.delete(f"/shops/shop/team/{username}"))
    )
    assert (response.status_code, response.json()["code"]) == (status, code), response.content
    assert set(response.json()) >= {"code", "detail"}
    after = list(ShopRole.objects.order_by("id").values_list("membership_id", "shop_id", "role"))
    assert after == before
    assert AuditEntry.objects.count() == audit_before


def test_a_lead_manages_the_roles_under_their_own(people):
    lead = people["lead"]
    assert lead.put("/shops/shop/team/agent", {"role": "logistics"}).status_code == 200
    assert lead.delete("/shops/shop/team/agent").status_code == 204
    assert _audit("shop")[-2:] == [
        ("agent", "lead", "changed", "agent", "logistics"),
        ("agent", "lead", "revoked", "logistics", ""),
    ]


def test_an_admin_taken_off_their_last_shop_is_no_installation_admin(people):
    # given a second admin, so that the first may go
    people["installation_admin"].put("/shops/shop/team/lead", {"role": "admin"})
    # when the first admin is taken off the shop's team
    assert people["lead"].delete("/shops/shop/team/boss").status_code == 204
    # then they reach no shop at all (not every shop)
    principal = principal_for_token(people["admin"].token)
    assert (principal.role, principal.shop_ids, principal.is_installation_admin) == (
        "admin",
        frozenset(),
        False,
    )
    assert people["admin"].get("/shops/shop").status_code == 404


def test_roles_are_changed_in_the_django_admin_by_nobody(people):
    from aftersales.team.admin import AuditEntryAdmin, MembershipAdmin

    for admin_class in (MembershipAdmin, AuditEntryAdmin):
        assert admin_class.has_change_permission(None, None) is False
        assert admin_class.has_add_permission(None, None) is False
        assert admin_class.has_delete_permission(None, None) is False


def test_the_data_migration_gives_each_member_their_role_in_each_of_their_shops(
    transactional_db,
):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # given memberships tied to shops the old way
    executor = MigrationExecutor(connection)
    executor.migrate([("team", "0004_notes_and_contacts_about_any_subject")])
    old = executor.loader.project_state(
        [("team", "0004_notes_and_contacts_about_any_subject")]
    ).apps
    shop_model = old.get_model("catalog", "Shop")
    user_model = old.get_model("auth", "User")
    membership_model = old.get_model("team", "Membership")
    a = shop_model.objects.create(code="a", name="A")
    b = shop_model.objects.create(code="b", name="B")
    agent = membership_model.objects.create(
        user=user_model.objects.create(username="agent"), role="agent"
    )
    agent.shops.set([a, b])
    membership_model.objects.create(user=user_model.objects.create(username="root"), role="admin")
    # when the migration runs
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then the member has the role in each shop, the installation admin none
    rows = ShopRole.objects.order_by("shop__code").values_list(
        "membership__user__username", "shop__code", "role"
    )
    assert list(rows) == [("agent", "a", "agent"), ("agent", "b", "agent")]


def test_a_complaint_owner_is_chosen_among_the_shops_staff(people):
    filed = people["customer"].post("/complaints", {"type": "attitude", "description": "x"})
    number = filed.json()["number"]
    response = people["lead"].post(f"/complaints/{number}/actions/assign", {"owner": "technician"})
    assert response.status_code == 200, response.content
    assert Complaint.objects.get(number=number).owner.username == "technician"
