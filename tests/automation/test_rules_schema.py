"""The one validator of rule conditions and actions (automation.rules.schema): what it keeps, and
errors that name the place and the problem."""

from __future__ import annotations

from typing import Any

import pytest

from deskpilot.accounts.models import Role
from deskpilot.automation.rules import schema
from tests import factories

pytestmark = pytest.mark.django_db


def error_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(schema.RuleError) as caught:
        fn(*args, **kwargs)
    return str(caught.value)


def test_a_mistyped_priority_is_named_with_its_place_and_the_choices():
    conditions = [
        {"field": "status", "op": "is", "value": "open"},
        {"field": "channel", "op": "is", "value": "email"},
        {"field": "priority", "op": "changed_to", "value": "urgentt"},
    ]
    assert error_of(schema.clean_conditions, conditions) == (
        "conditions[2].value: 'urgentt' is not a priority (low, normal, high, urgent)"
    )


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ("x", "conditions: must be a list of conditions"),
        ([{"field": "colour", "op": "is", "value": 1}], "conditions[0].field: 'colour' is not a condition field"),
        (
            [{"field": "status", "op": "contains", "value": "x"}],
            "conditions[0].op: 'contains' is not an operator for status",
        ),
        ([{"field": "status", "op": "in", "value": []}], "conditions[0].value: 'in' needs a non-empty list"),
        (
            [{"field": "status", "op": "in", "value": ["open", "shut"]}],
            "conditions[0].value[1]: 'shut' is not a status",
        ),
        ([{"field": "status", "op": "changed", "value": "open"}], "conditions[0].value: 'changed' takes no value"),
        ([{"field": "status", "op": "is"}], "conditions[0].value: is missing"),
        ([{"field": "team", "op": "is", "value": 999999}], "conditions[0].value: there is no team with id 999999"),
        ([{"field": "team", "op": "is", "value": "support"}], "conditions[0].value: 'support' is not a team id"),
        ([{"field": "business_hours", "op": "is", "value": "yes"}], "conditions[0].value: 'yes' is not true or false"),
        ([{"any": []}], "conditions[0].any: must be a non-empty list of conditions"),
        (
            [
                {
                    "any": [
                        {"field": "priority", "op": "is", "value": "high"},
                        {"field": "tags", "op": "includes", "value": [""]},
                    ]
                }
            ],
            "conditions[0].any[1].value[0]: a tag must not be empty",
        ),
        ([{"field": "status", "op": "is", "value": "open", "extra": 1}], "conditions[0].extra: is not a condition key"),
    ],
)
def test_condition_mistakes(conditions, message):
    assert error_of(schema.clean_conditions, conditions).startswith(message)


def test_conditions_are_cleaned_to_plain_json():
    team = factories.team()
    cleaned = schema.clean_conditions(
        [
            {"field": "tags", "op": "includes", "value": "Billing Issue"},
            {"any": [{"field": "team", "op": "is", "value": team.pk}, {"field": "team", "op": "is", "value": None}]},
            {"field": "custom_fields.plan", "op": "is", "value": "gold"},
            {"field": "message", "op": "contains", "value": "refund"},
        ]
    )
    assert cleaned[0] == {"field": "tags", "op": "includes", "value": ["billing-issue"]}
    assert cleaned[1]["any"][1] == {"field": "team", "op": "is", "value": None}
    assert cleaned[2]["value"] == "gold"


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ([], "actions: add at least one action"),
        ([{"type": "explode"}], "actions[0].type: 'explode' is not an action"),
        (
            [{"type": "set", "field": "subject", "value": "x"}],
            "actions[0].field: 'subject' is not a field an action sets",
        ),
        ([{"type": "set", "field": "status", "value": "done"}], "actions[0].value: 'done' is not a status"),
        ([{"type": "assign"}], "actions[0]: name a team, an assignee or both"),
        ([{"type": "add_tags", "tags": []}], "actions[0].tags: must be a non-empty list of tag names"),
        ([{"type": "notify", "subject": "s", "text": "t"}], "actions[0]: notify whom?"),
        (
            [{"type": "notify", "emails": ["not an address"], "subject": "s", "text": "t"}],
            "actions[0].emails[0]: 'not an address' is not an email address",
        ),
        ([{"type": "notify", "assignee": True, "subject": "s", "text": "{{ ticket.id "}], "actions[0].text: line 1:"),
        ([{"type": "email_requester", "subject": "", "body": "b"}], "actions[0].subject: must not be empty"),
        ([{"type": "webhook", "subscription": 4242}], "actions[0].subscription: there is no webhook with id 4242"),
        ([{"type": "set_policy", "policy": 4242}], "actions[0].policy: there is no SLA policy with id 4242"),
        (
            [{"type": "set", "field": "status", "value": "open", "colour": 1}],
            "actions[0].colour: is not a key of a set action",
        ),
    ],
)
def test_action_mistakes(actions, message):
    assert error_of(schema.clean_actions, actions).startswith(message)


def test_assign_checks_the_agent_and_team():
    agent = factories.user(Role.AGENT)
    other = factories.user(Role.AGENT)
    collaborator = factories.user(Role.COLLABORATOR)
    team = factories.team(members=[agent])
    assert schema.clean_actions([{"type": "assign", "team": team.pk, "assignee": agent.pk}]) == [
        {"type": "assign", "team": team.pk, "assignee": agent.pk}
    ]
    assert "is not a member of team" in error_of(
        schema.clean_actions, [{"type": "assign", "team": team.pk, "assignee": other.pk}]
    )
    assert f"there is no active agent with id {collaborator.pk}" in error_of(
        schema.clean_actions, [{"type": "assign", "assignee": collaborator.pk}]
    )


def test_macros_allow_field_changes_only():
    message = error_of(
        schema.clean_actions, [{"type": "webhook", "subscription": 1}], allowed=schema.MACRO_ACTION_TYPES
    )
    assert message.startswith("actions[0].type: 'webhook' is not an action (set, assign, add_tags, remove_tags)")


def test_set_a_custom_field():
    from deskpilot.tickets.models import CustomField

    CustomField.objects.create(key="plan", label="Plan", kind="dropdown", choices=["free", "gold"])
    assert schema.clean_actions([{"type": "set", "field": "custom_fields.plan", "value": "gold"}]) == [
        {"type": "set", "field": "custom_fields.plan", "value": "gold"}
    ]
    assert error_of(schema.clean_actions, [{"type": "set", "field": "custom_fields.plan", "value": "silver"}]) == (
        "actions[0].value: must be one of: free, gold"
    )
    assert error_of(schema.clean_actions, [{"type": "set", "field": "custom_fields.colour", "value": "x"}]) == (
        "actions[0].field: custom field 'colour' is not a custom field"
    )
