"""Rule messages written per language ({en, zh-CN}) like labels: schema, choice of template, and the edge
picking the reader's version."""

from __future__ import annotations

import pickle

import pytest
from jsonschema import Draft202012Validator

from lowcode.core import texts
from lowcode.core.texts import Versions, localize
from lowcode.rules.actions.base import message_texts, pick_message
from lowcode.rules.actions.flow import RefuseAction
from lowcode.rules.actions.guarded_writes import UpdateRecordsAction, UpsertAction
from lowcode.rules.actions.messaging import NotifyAction

MESSAGE = {"en": "Order {number} is {status}", "zh-CN": "订单 {number} 状态为 {status}"}


@pytest.mark.parametrize(
    ("language", "template"),
    [("en", MESSAGE["en"]), ("zh_CN", MESSAGE["zh-CN"]), ("zh-CN", MESSAGE["zh-CN"]), ("fr", MESSAGE["en"])],
)
def test_the_template_of_the_readers_language_falling_back_to_english(language, template):
    assert pick_message(MESSAGE, language) == template
    assert pick_message("plain {x}", language) == "plain {x}"


def test_every_template_of_a_message_is_checked():
    assert message_texts(MESSAGE) == list(MESSAGE.values())
    assert message_texts("one") == ["one"] and message_texts(None) == []


@pytest.mark.parametrize("action", [RefuseAction, NotifyAction])
def test_the_action_schemas_take_a_string_or_a_label_object(action):
    key = "message" if action is RefuseAction else "title"
    base = {} if action is RefuseAction else {"to": {"role": "clerk"}}
    validator = Draft202012Validator(action.options_schema)
    assert validator.is_valid({**base, key: "Refused"})
    assert validator.is_valid({**base, key: MESSAGE})
    assert not validator.is_valid({**base, key: {"en": 3}})
    assert not validator.is_valid({**base, key: {"not a language": "x"}})
    assert not validator.is_valid({**base, key: {}})
    assert not validator.is_valid({**base, key: ""})


@pytest.mark.parametrize("action", [UpdateRecordsAction, UpsertAction])
def test_guarded_writes_take_a_refuse_message_object(action):
    schema = action.options_schema["properties"]["refuse_message"]
    assert Draft202012Validator(schema).is_valid(MESSAGE)
    assert Draft202012Validator(schema).is_valid("Refused {target.id}")


def test_versions_are_picked_at_the_edge_by_the_readers_language():
    said = Versions({"zh-CN": "库存不足", "en": "Insufficient stock"}, "zh-CN")
    assert str(said) == "库存不足"  # the acting user's language outside a request (logs, run log)
    try:
        texts.use_language(lambda: "en")
        assert localize({"message": said}) == {"message": "Insufficient stock"}
        texts.use_language(lambda: "zh_CN")
        assert localize([said]) == ["库存不足"]
        texts.use_language(lambda: "fr")
        assert said.localized() == "库存不足"  # no French: the default version
    finally:
        texts.use_language(lambda: None)
    copied = pickle.loads(pickle.dumps(said))
    assert isinstance(copied, Versions) and copied.versions == said.versions and str(copied) == str(said)
