"""The rules in the Django admin: the same validation as the pages (rules.schema)."""

from __future__ import annotations

import json

import pytest

from deskpilot.accounts.models import Role
from deskpilot.automation.models import Trigger
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db


def test_the_admin_explains_a_mistake_and_saves_a_good_trigger():
    client = client_for(factories.user(Role.ADMIN))
    data = {
        "name": "Urgent",
        "description": "",
        "active": "on",
        "position": "0",
        "conditions": json.dumps([{"field": "priority", "op": "is", "value": "urgentt"}]),
        "actions": json.dumps([{"type": "add_tags", "tags": ["x"]}]),
    }
    response = client.post("/admin/automation/trigger/add/", data)
    assert response.status_code == 200
    assert "conditions[0].value: &#x27;urgentt&#x27; is not a priority" in response.content.decode()
    data["conditions"] = json.dumps([{"field": "priority", "op": "is", "value": "urgent"}])
    assert client.post("/admin/automation/trigger/add/", data).status_code == 302
    assert Trigger.objects.get().conditions == [{"field": "priority", "op": "is", "value": "urgent"}]
    for page in ("trigger", "automation", "macro", "automationrun"):
        assert client.get(f"/admin/automation/{page}/").status_code == 200
