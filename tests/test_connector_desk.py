"""The stores on the desk and in the API: a store is added (its keys sealed and never answered),
tested against a fake gateway without moving its sync, paused, resumed, synced now, given new
keys, switched to writing with a refund cap (the administrators only), and removed with its
requests while its cases stay; its health reads in words; bad input changes nothing; another
shop's store is not there."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import sys
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult

from aftersales.cases.models import Case
from aftersales.connectors.models import PlatformRequest, PlatformWrite, Store
from aftersales.connectors.sync import store_sync
from aftersales.connectors.tasks import sync_store
from aftersales.team.services import user_create
from tests.conftest import NOW, make_order, make_shop, make_user, open_case
from tests.fakes.pinduoduo import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET
from tests.test_connector_pinduoduo import fake_pdd  # noqa: F401 (the fixture)
from tests.test_connector_sync import END, START

ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def shown(html: str) -> str:
    """The text people read (no tags, no attributes: the page's own machine data is there)."""
    return re.sub(r"<[^>]+>", " ", html)


def pdd_body(fake=None, **changes) -> dict:
    return {
        "platform": "pinduoduo",
        "name": "拼多多旗舰店",
        "seller_id": "100231",
        "app_key": CLIENT_ID,
        "app_secret": CLIENT_SECRET,
        "access_token": ACCESS_TOKEN,
        "gateway": fake.url if fake else "",
        **changes,
    }


@pytest.fixture
def admin_api(shop):
    return make_user("shopadmin", "admin", shop="shop")


@pytest.fixture
def lead_api(shop):
    return make_user("lead", "lead", shop="shop")


@pytest.fixture
def store_id(admin_api, fake_pdd):  # noqa: F811
    response = admin_api.post("/shops/shop/stores", pdd_body(fake_pdd))
    assert response.status_code == 201, response.content
    return response.json()["id"]


def sync_tasks(store_id: int) -> int:
    return DBTaskResult.objects.filter(
        task_path=sync_store.module_path, args_kwargs__args=[store_id]
    ).count()


# --- adding -----------------------------------------------------------------------------------


def test_an_added_store_seals_its_keys_and_never_answers_them(admin_api, fake_pdd):  # noqa: F811
    # when the shop's administrator adds a Pinduoduo store
    response = admin_api.post("/shops/shop/stores", pdd_body(fake_pdd))
    # then it is there, its writes off and no refund automatic, not synced yet
    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["shop"], answer["platform"], answer["platform_label"]) == (
        "shop",
        "pinduoduo",
        "Pinduoduo",
    )
    assert answer["write_enabled"] is False and Decimal(answer["auto_refund_cap"]) == 0
    assert answer["health"]["state"] == "never_synced" and answer["api_access"] is True
    assert answer["push_url"].endswith(f"/connectors/push/pinduoduo/{answer['id']}")
    # and its keys are shown only as set, with the app key's last four characters
    assert answer["keys"] == {"set": True, "readable": True, "app_key_end": CLIENT_ID[-4:]}
    for secret in (CLIENT_SECRET, ACCESS_TOKEN):
        assert secret not in response.content.decode()
        assert secret not in admin_api.get(f"/stores/{answer['id']}").content.decode()
        assert secret not in Store.objects.get().sealed_keys


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"platform": "amazon"}, 422, "validation_error"),
        ({"name": "   "}, 422, "name_required"),
        ({"app_secret": ""}, 422, "app_secret_required"),
        ({"gateway": "ftp://example.com"}, 422, "invalid_gateway"),
        ({"extra": {"sign_secret": "x"}}, 422, "invalid_extra"),
        ({"platform": "kuaishou"}, 422, "sign_secret_required"),
        (
            {"platform": "kuaishou", "extra": {"sign_secret": "s", "message_secret": "abc"}},
            422,
            "invalid_message_secret",
        ),
        ({"import_only": "yes"}, 422, "validation_error"),
    ],
)
def test_bad_input_is_refused_and_adds_nothing(admin_api, changes, status, code):
    response = admin_api.post("/shops/shop/stores", pdd_body(**changes))
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Store.objects.exists()


def test_one_store_per_platform_account(admin_api, store_id):
    # the same account again is refused, whatever the name
    again = admin_api.post("/shops/shop/stores", pdd_body(name="又一个"))
    assert (again.status_code, again.json()["code"]) == (409, "store_exists")
    # the same seller id on another platform is another account
    other = admin_api.post(
        "/shops/shop/stores", pdd_body(platform="douyin", name="抖店", app_key="k")
    )
    assert other.status_code == 201, other.content
    assert Store.objects.count() == 2


def test_a_store_without_api_access_keeps_no_keys_and_is_never_synced(admin_api):
    # when a shop without API access adds its store
    response = admin_api.post(
        "/shops/shop/stores",
        {"platform": "taobao", "name": "淘宝店", "seller_id": "小店", "import_only": True},
    )
    assert response.status_code == 201, response.content
    answer = response.json()
    # then it keeps no keys, has no push address and says where its requests come from
    assert answer["api_access"] is False and answer["push_url"] is None
    assert answer["keys"]["set"] is False and Store.objects.get().sealed_keys == ""
    assert answer["health"]["state"] == "import_only"
    # and nothing that needs the API is offered
    number = answer["id"]
    for path in ("test", "sync", "pause", "resume"):
        refused = admin_api.post(f"/stores/{number}/{path}")
        assert (refused.status_code, refused.json()["code"]) == (409, "store_import_only"), path
    writes = admin_api.patch(f"/stores/{number}", {"write_enabled": True})
    assert (writes.status_code, writes.json()["code"]) == (409, "store_import_only")
    assert not DBTaskResult.objects.exists()
    # until it is given keys: then it reads the API, its writes still off
    given = admin_api.put(
        f"/stores/{number}/keys", {"app_key": "k1234", "app_secret": "s", "access_token": "t"}
    )
    assert given.status_code == 200, given.content
    assert given.json()["api_access"] is True and given.json()["write_enabled"] is False
    assert given.json()["keys"]["app_key_end"] == "1234"


# --- testing, pausing, syncing ----------------------------------------------------------------


def test_a_test_proves_the_keys_and_never_moves_the_sync(admin_api, store_id, fake_pdd):  # noqa: F811
    # when the keys work
    ok = admin_api.post(f"/stores/{store_id}/test")
    assert ok.status_code == 200, ok.content
    assert ok.json()["ok"] is True and ok.json()["code"] is None
    store = Store.objects.get()
    assert (store.synced_until, store.last_sync_at, store.last_error) == (None, None, "")
    # when they are replaced by wrong ones
    renewed = admin_api.put(
        f"/stores/{store_id}/keys",
        {"app_key": CLIENT_ID, "app_secret": "wrong", "access_token": ACCESS_TOKEN},
    )
    assert renewed.status_code == 200
    failed = admin_api.post(f"/stores/{store_id}/test").json()
    # then the test says why in words and keeps it as the last error, the position unmoved
    assert failed["ok"] is False and failed["code"] == "credential_rejected"
    assert "refused the store's keys" in failed["words"] and failed["detail"]
    store.refresh_from_db()
    assert store.last_error == "credential_rejected" and store.synced_until is None
    health = admin_api.get(f"/stores/{store_id}").json()["health"]
    assert health["last_error"] == "credential_rejected" and health["last_error_words"]


def test_a_rate_limited_test_keeps_the_platforms_wait(admin_api, store_id, fake_pdd, clock):  # noqa: F811
    fake_pdd.rate_limited = 1
    answer = admin_api.post(f"/stores/{store_id}/test").json()
    assert answer["code"] == "rate_limited"
    store = Store.objects.get()
    assert store.rate_limited_until > NOW
    # a sync now is refused while the platform makes the store wait
    refused = admin_api.post(f"/stores/{store_id}/sync")
    assert (refused.status_code, refused.json()["code"]) == (409, "store_rate_limited")


def test_unreadable_keys_fail_the_test_in_words(admin_api, store_id, settings):
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    answer = admin_api.post(f"/stores/{store_id}/test").json()
    assert answer["code"] == "keys_unreadable" and "can no longer be opened" in answer["words"]
    assert admin_api.get(f"/stores/{store_id}").json()["keys"]["readable"] is False


def test_pause_resume_and_a_pause_for_the_keys(admin_api, store_id):
    # a person pauses the store, and it says so
    paused = admin_api.post(f"/stores/{store_id}/pause").json()
    assert paused["health"]["state"] == "paused" and paused["health"]["paused_for_keys"] is False
    assert paused["health"]["paused_words"].startswith("Paused by a person")
    assert admin_api.post(f"/stores/{store_id}/sync").json()["code"] == "store_paused"
    resumed = admin_api.post(f"/stores/{store_id}/resume").json()
    assert resumed["health"]["paused"] is False
    # a store a sync paused for rejected keys says why; resuming clears that error
    Store.objects.filter(pk=store_id).update(
        paused=True, last_error="credential_rejected", last_error_at=NOW
    )
    health = admin_api.get(f"/stores/{store_id}").json()["health"]
    assert health["paused_for_keys"] is True and "Renew them" in health["paused_words"]
    resumed = admin_api.post(f"/stores/{store_id}/resume").json()["health"]
    assert (resumed["paused"], resumed["last_error"]) == (False, None)


def test_sync_now_queues_one_sync(admin_api, store_id):
    first = admin_api.post(f"/stores/{store_id}/sync")
    assert (first.status_code, first.json()) == (202, {"queued": True})
    second = admin_api.post(f"/stores/{store_id}/sync")
    assert (second.status_code, second.json()) == (202, {"queued": False})
    assert sync_tasks(store_id) == 1


# --- writes, the cap, the name ----------------------------------------------------------------


def patch(api, store_id, body):
    return api.patch(f"/stores/{store_id}", body)


def test_writes_and_the_cap_are_the_administrators(admin_api, lead_api, store_id):
    # a lead renames the store, but may not turn its writes on nor set its cap
    assert patch(lead_api, store_id, {"name": "拼多多店"}).json()["name"] == "拼多多店"
    # and the platform's id of the shop's return address (a return is agreed with it)
    address = patch(lead_api, store_id, {"return_address_id": " 9001 "})
    assert address.json()["return_address_id"] == "9001"
    for body in ({"write_enabled": True}, {"auto_refund_cap": "100.00"}):
        refused = patch(lead_api, store_id, body)
        assert refused.status_code == 403, body
    store = Store.objects.get()
    assert (store.write_enabled, store.auto_refund_cap) == (False, Decimal("0"))
    # the administrator does
    answer = patch(admin_api, store_id, {"write_enabled": True, "auto_refund_cap": "150.50"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["write_enabled"] is True
    assert Decimal(answer.json()["auto_refund_cap"]) == Decimal("150.50")


@pytest.mark.parametrize(
    "body",
    [
        {"auto_refund_cap": "-1"},
        {"auto_refund_cap": "1.234"},
        {"auto_refund_cap": "abc"},
        {"write_enabled": "yes"},
        {"name": ""},
        {"gateway": "not a url"},
        {"return_address_id": "9" * 61},
    ],
)
def test_bad_changes_change_nothing(admin_api, store_id, body):
    before = Store.objects.values().get()
    response = patch(admin_api, store_id, body)
    assert response.status_code == 422, response.content
    assert Store.objects.values().get() == before


# --- health -----------------------------------------------------------------------------------


def test_the_health_counts_and_says_in_words(admin_api, store_id, fake_pdd, clock):  # noqa: F811
    # given a morning synced: some requests wait for a person (codes the mapping does not know)
    Store.objects.filter(pk=store_id).update(synced_until=START)
    store_sync(store_id, until=END)
    request = PlatformRequest.objects.filter(needs_person=False).first()
    PlatformWrite.objects.create(
        store_id=store_id,
        request=request,
        action="approve",
        call="agree_refund",
        status="unknown",
        created_at=NOW,
    )
    Store.objects.filter(pk=store_id).update(
        last_error="platform_unreachable",
        last_error_detail="timed out",
        last_error_at=NOW,
        rate_limited_until=NOW + dt.timedelta(minutes=2),
        unreachable_before=START,
    )
    # when the store is read
    health = admin_api.get(f"/stores/{store_id}").json()["health"]
    # then its counts, its lag and its errors are there, in words
    assert health["requests"] == PlatformRequest.objects.count() > 0
    assert health["waiting_for_person"] == PlatformRequest.objects.filter(needs_person=True).count()
    assert health["waiting_for_person"] > 0 and health["writes_unsettled"] == 1
    assert health["lag_seconds"] == int((NOW - END).total_seconds())
    assert health["state"] == "rate_limited"
    assert health["last_error_words"].startswith("The platform could not be reached")
    assert health["unreachable_words"] and health["last_error_detail"] == "timed out"
    # and the list answers the same
    [listed] = admin_api.get("/shops/shop/stores").json()["items"]
    assert listed["health"] == health


# --- removing ---------------------------------------------------------------------------------


def test_a_store_is_removed_with_its_requests_but_not_its_cases(
    admin_api,
    store_id,
    fake_pdd,  # noqa: F811
    customer,
    order,
):
    Store.objects.filter(pk=store_id).update(synced_until=START)
    store_sync(store_id, until=END)
    case_number = open_case(customer, order)["number"]
    request = PlatformRequest.objects.first()
    PlatformRequest.objects.filter(pk=request.pk).update(case=Case.objects.get(number=case_number))
    write = PlatformWrite.objects.create(
        store_id=store_id,
        request=request,
        action="refund",
        call="agree_refund",
        status="sending",
        created_at=NOW,
    )
    # while a write has no known outcome, the store stays
    refused = admin_api.delete(f"/stores/{store_id}")
    assert (refused.status_code, refused.json()["code"]) == (409, "store_writes_unsettled")
    assert Store.objects.exists()
    # once a read settled it, the store goes with its requests; the case stays
    PlatformWrite.objects.filter(pk=write.pk).update(status="settled_done")
    assert admin_api.delete(f"/stores/{store_id}").status_code == 204
    assert not Store.objects.exists() and not PlatformRequest.objects.exists()
    assert Case.objects.filter(number=case_number).exists()
    # a sync still queued for it ends quietly
    assert sync_store.call(store_id)["error"] == "store_removed"


# --- who may -----------------------------------------------------------------------------------


def test_who_sees_and_who_manages(admin_api, lead_api, agent, finance, customer, store_id):
    make_shop("other")
    outsider = make_user("outsider", "admin", shop="other")
    # agents see the stores; finance and customers do not; another shop's do not either
    assert agent.get(f"/stores/{store_id}").status_code == 200
    assert agent.get("/shops/shop/stores").status_code == 200
    for api in (finance, customer):
        assert api.get(f"/stores/{store_id}").status_code == 403
    assert outsider.get(f"/stores/{store_id}").status_code == 404
    assert outsider.get("/shops/shop/stores").status_code == 404
    # an agent may not manage; an outsider finds nothing to manage
    for path in ("pause", "test", "sync"):
        assert agent.post(f"/stores/{store_id}/{path}").status_code == 403, path
        assert outsider.post(f"/stores/{store_id}/{path}").status_code == 404, path
    assert agent.post("/shops/shop/stores", pdd_body(seller_id="9")).status_code == 403
    assert agent.delete(f"/stores/{store_id}").status_code == 403
    # a lead manages
    assert lead_api.post(f"/stores/{store_id}/pause").status_code == 200
    assert Store.objects.get().paused
    assert not DBTaskResult.objects.exists()


# --- the desk ----------------------------------------------------------------------------------


def desk_as(username: str, role: str) -> Client:
    user_create(username=username, role=role, shop_codes=["shop"], password="pw-desk-123")
    client = Client()
    assert client.login(username=username, password="pw-desk-123")
    return client


def test_the_desk_lists_the_stores_with_their_health_in_words(
    admin_api,
    store_id,
    desk,
    fake_pdd,  # noqa: F811
):
    Store.objects.filter(pk=store_id).update(synced_until=START)
    store_sync(store_id, until=END)
    # the agent reads the list and the store's page, with no form to manage them
    page = desk.get("/desk/stores/").content.decode()
    assert "拼多多旗舰店" in page and 'data-health="ok"' in page and "Synced" in page
    assert 'id="add-store"' not in page and ISO_TIME.search(shown(page)) is None
    store_page = desk.get(f"/desk/stores/{store_id}/").content.decode()
    assert ISO_TIME.search(shown(store_page)) is None and 'id="store-actions"' not in store_page
    # with the requests that wait for a person, by their raw status on the platform
    waiting = PlatformRequest.objects.filter(needs_person=True)
    assert waiting.exists()
    for request in waiting:
        assert f'data-request="{request.request_id}"' in store_page
    assert "Pinduoduo" in store_page and "behind" in store_page
    # and the nav leads there
    assert 'href="/desk/stores/"' in desk.get("/desk/").content.decode()


def test_the_desk_adds_a_store_and_shows_bad_input_beside_its_field(shop, fake_pdd):  # noqa: F811
    desk = desk_as("desk-admin", "admin")
    form = {**pdd_body(fake_pdd), "shop": "shop", "app_secret": ""}
    # a missing secret: the form again, its error beside the field, nothing added
    refused = desk.post("/desk/stores/add/", form)
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'data-error-for="app_secret"' in html and "App secret is required." in html
    assert 'value="拼多多旗舰店"' in html and not Store.objects.exists()
    # complete: added, and its page follows
    added = desk.post("/desk/stores/add/", {**form, "app_secret": CLIENT_SECRET})
    assert added.status_code == 302
    store = Store.objects.get()
    assert added["Location"] == f"/desk/stores/{store.pk}/"
    assert CLIENT_SECRET not in desk.get(added["Location"]).content.decode()


def test_the_desk_buttons_and_forms(store_id, fake_pdd):  # noqa: F811
    desk = desk_as("desk-admin", "admin")
    base = f"/desk/stores/{store_id}"
    page = desk.get(f"{base}/").content.decode()
    for step in ("test", "sync", "pause", "writes-on", "cap", "keys", "remove"):
        assert f'data-step="{step}"' in page, step
    # the test and the pause answer with a message
    tested = desk.post(f"{base}/test/", follow=True).content.decode()
    assert "The platform accepted the store&#x27;s keys." in tested
    desk.post(f"{base}/pause/")
    assert Store.objects.get().paused
    assert 'data-step="resume"' in desk.get(f"{base}/").content.decode()
    desk.post(f"{base}/resume/")
    # writes on, and a cap; a bad cap shows beside its form and changes nothing
    desk.post(f"{base}/writes/", {"write_enabled": "on"})
    assert Store.objects.get().write_enabled
    bad = desk.post(f"{base}/cap/", {"auto_refund_cap": "-5"})
    assert bad.status_code == 422 and 'data-error-for="cap"' in bad.content.decode()
    assert Store.objects.get().auto_refund_cap == 0
    desk.post(f"{base}/cap/", {"auto_refund_cap": "88.80"})
    assert Store.objects.get().auto_refund_cap == Decimal("88.80")
    # removing wants the box ticked
    unconfirmed = desk.post(f"{base}/remove/")
    assert unconfirmed.status_code == 422 and Store.objects.exists()
    removed = desk.post(f"{base}/remove/", {"confirm": "yes"})
    assert removed.status_code == 302 and not Store.objects.exists()


def test_an_agent_cannot_use_the_managers_buttons(store_id, desk):
    response = desk.post(f"/desk/stores/{store_id}/pause/")
    assert response.status_code == 403
    assert not Store.objects.get().paused


@pytest.fixture
def export_importer(monkeypatch):
    """``connectors.exports`` as the page calls it (its module is written beside this one):
    ``import_export(store=, data=, filename=)`` answers rows, landed, changed and each row's
    error (its 1-based line and a message)."""
    import aftersales.connectors

    calls = []

    def import_export(*, store, data, filename):
        calls.append((store.pk, data, filename))
        return SimpleNamespace(
            rows=3,
            landed=2,
            changed=1,
            errors=[SimpleNamespace(row=3, message="退款金额不是金额")],
        )

    module = SimpleNamespace(import_export=import_export)
    monkeypatch.setitem(sys.modules, "aftersales.connectors.exports", module)
    monkeypatch.setattr(aftersales.connectors, "exports", module, raising=False)
    return calls


def test_the_desk_imports_an_export_and_shows_each_rows_error(admin_api, export_importer):
    response = admin_api.post(
        "/shops/shop/stores",
        {"platform": "taobao", "name": "淘宝店", "seller_id": "小店", "import_only": True},
    )
    store_id = response.json()["id"]
    desk = desk_as("desk-admin", "admin")
    # no file: the error beside the form, nothing imported
    refused = desk.post(f"/desk/stores/{store_id}/import/", {})
    assert refused.status_code == 422 and 'data-error-for="import"' in refused.content.decode()
    assert export_importer == []
    # a file: its rows counted, and each refused row by its line
    upload = SimpleUploadedFile("退款导出.csv", "退款编号,订单编号\n1,2\n".encode(), "text/csv")
    page = desk.post(f"/desk/stores/{store_id}/import/", {"file": upload})
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 rows read, 2 requests kept, 1 new or changed." in html
    assert "Line 3: 退款金额不是金额" in html
    assert export_importer == [(store_id, "退款编号,订单编号\n1,2\n".encode(), "退款导出.csv")]


def test_an_agent_imports_but_a_finance_member_may_not(shop, export_importer):
    store = Store.objects.create(
        shop=shop, platform="jd", name="京东店", seller_id="1", sealed_keys="", api_access=False
    )
    upload = SimpleUploadedFile("jd.csv", b"a,b\n", "text/csv")
    agent_desk = desk_as("desk-agent2", "agent")
    assert agent_desk.post(f"/desk/stores/{store.pk}/import/", {"file": upload}).status_code == 200
    finance_desk = desk_as("desk-finance", "finance")
    upload.seek(0)
    assert (
        finance_desk.post(f"/desk/stores/{store.pk}/import/", {"file": upload}).status_code == 403
    )
    assert len(export_importer) == 1


def test_the_import_module_takes_what_the_page_gives():
    exports = pytest.importorskip("aftersales.connectors.exports")
    parameters = inspect.signature(exports.import_export).parameters
    assert {"store", "data", "filename"} <= set(parameters)


def test_the_store_of_a_case_is_unaffected_by_another_shop(admin_api, store_id):
    # another shop's administrator adds the same platform's store with another account
    make_shop("other")
    make_order(shop="other", external_id="X1", customer="X")
    other = make_user("otheradmin", "admin", shop="other")
    response = other.post("/shops/other/stores", pdd_body(seller_id="200462"))
    assert response.status_code == 201, response.content
    # each lists only its own
    assert [s["seller_id"] for s in other.get("/shops/other/stores").json()["items"]] == ["200462"]
    assert [s["seller_id"] for s in admin_api.get("/shops/shop/stores").json()["items"]] == [
        "100231"
    ]
