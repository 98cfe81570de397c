"""The Django admin shows everything and edits no case behind the state table's back."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aftersales.cases.models import Case
from tests.conftest import open_case


@pytest.fixture
def superuser_client(db):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-0123456789")
    client = Client()
    client.login(username="boss", password="pw-0123456789")
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/cases/case/",
        "/admin/policy/policy/",
        "/admin/catalog/order/",
        "/admin/catalog/shop/",
        "/admin/team/membership/",
        "/admin/core/notice/",
    ],
)
def test_admin_lists_render(superuser_client, customer, order, path):
    open_case(customer, order)
    assert superuser_client.get(path).status_code == 200


def test_a_case_cannot_be_edited_in_the_admin(superuser_client, customer, order):
    number = open_case(customer, order)["number"]
    case = Case.objects.get(number=number)
    page = superuser_client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200  # viewable
    superuser_client.post(f"/admin/cases/case/{case.pk}/change/", {"state": "refunded"})
    assert Case.objects.get(pk=case.pk).state == "awaiting_seller"
