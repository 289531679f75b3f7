"""The DTR Questionnaire generated from the policy: structure, wording, enableWhen, version."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from fhir.resources.R4B.questionnaire import Questionnaire

from cds_service.fhir_api.questionnaire import (
    build_questionnaire,
    policy_version,
    questionnaire_id,
)
from cds_service.rules.policy import DEFAULT_PATH, PolicyError, load_policy, parse_policy

BASE = "https://payer.example/fhir"


@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.fixture(scope="module")
def questionnaire(policy):
    return build_questionnaire(policy, BASE, "Sunrise Health Plan")


def walk(items):
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def by_link(questionnaire):
    return {item["linkId"]: item for item in walk(questionnaire["item"])}


def documentable_clauses(policy) -> set[str]:
    return {c.clause for s in policy.criteria_sets() for c in s.walk() if c.documentable}


def raw_policy() -> dict:
    return yaml.safe_load(Path(DEFAULT_PATH).read_text(encoding="utf-8"))


def test_valid_r4_questionnaire_with_the_dtr_standard_profile(questionnaire):
    parsed = Questionnaire.model_validate(questionnaire)
    assert parsed.status == "active"
    assert questionnaire["meta"]["profile"] == [
        "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-std-questionnaire"
    ]
    assert questionnaire["url"] == f"{BASE}/Questionnaire/cp-phar-71"
    assert questionnaire["subjectType"] == ["Patient"]
    assert all(item.get("text") for item in walk(questionnaire["item"]))  # dtr-base: item.text 1..1


def test_link_ids_are_unique(questionnaire):
    links = [item["linkId"] for item in walk(questionnaire["item"])]
    assert len(links) == len(set(links))


def test_every_documentable_criterion_is_a_boolean_question_in_the_policys_words(policy, questionnaire):
    items = by_link(questionnaire)
    flagged = [c for s in policy.criteria_sets() for c in s.walk() if c.documentable]
    assert {c.clause for c in flagged} == documentable_clauses(policy)
    assert len(flagged) > 40
    for criterion in flagged:
        item = items[criterion.clause]
        assert item["type"] == "boolean"
        assert item["text"] == criterion.text
    questions = {i["linkId"] for i in walk(questionnaire["item"]) if i["type"] == "boolean"}
    assert questions == documentable_clauses(policy)


def test_alternatives_keep_their_own_clause_id_under_their_criterion(questionnaire):
    items = by_link(questionnaire)
    group = items["CP.PHAR.71 I.A.4"]
    assert group["type"] == "group"
    assert group["text"] == "Will be used for one of the following indications (a, b, c, d, e, or f)"
    assert [i["linkId"] for i in group["item"] if i["type"] == "boolean"] == [f"CP.PHAR.71 I.A.4.{x}" for x in "abcdef"]


def test_a_date_or_value_item_where_the_policy_asks_for_one(questionnaire):
    items = by_link(questionnaire)
    transplant = items["CP.PHAR.71 I.A.4.c/date"]
    assert transplant["type"] == "date"
    assert transplant["enableWhen"] == [{"question": "CP.PHAR.71 I.A.4.c", "operator": "=", "answerBoolean": True}]
    epo = items["CP.PHAR.71 I.B.4.a/value"]
    assert epo["type"] == "decimal"
    assert "erythropoietin" in epo["text"] and "mU/mL" in epo["text"]


def test_sections_follow_the_indication_and_the_pathway(questionnaire):
    items = by_link(questionnaire)
    myeloma = items["CP.PHAR.71 I.A"]
    assert myeloma["enableBehavior"] == "all"
    assert myeloma["enableWhen"] == [
        {"question": "indication", "operator": "=", "answerCoding": {"code": "multiple-myeloma"}},
        {"question": "pathway", "operator": "=", "answerCoding": {"code": "initial"}},
    ]
    continued = items["CP.PHAR.71 II.A"]
    assert continued["enableWhen"] == [{"question": "pathway", "operator": "=", "answerCoding": {"code": "continued"}}]
    sections = [i["linkId"] for i in questionnaire["item"] if i["type"] == "group"]
    assert sections.count("CP.PHAR.71 II.A") == 1
    assert sections == [f"CP.PHAR.71 I.{s}" for s in "ABCDEF"] + ["CP.PHAR.71 I", "CP.PHAR.71 II.A"]
    indication_codes = [o["valueCoding"]["code"] for o in items["indication"]["answerOption"]]
    assert "multiple-myeloma" in indication_codes and "unknown" in indication_codes
    # Every enableWhen points at an item that exists and is answered with a code it offers.
    for item in walk(questionnaire["item"]):
        for condition in item.get("enableWhen", []):
            target = items[condition["question"]]
            if "answerCoding" in condition:
                offered = [o["valueCoding"]["code"] for o in target["answerOption"]]
                assert condition["answerCoding"]["code"] in offered


def test_age_cannot_be_asked_away_but_it_is_asked(questionnaire):
    # Age is asked (a missing birth date leaves it unknown); the rules keep an age under 18.
    assert by_link(questionnaire)["CP.PHAR.71 I.A.3"]["text"] == "Age ≥ 18 years"


def test_id_is_stable_and_version_follows_the_policy_content(policy):
    same = parse_policy(raw_policy())
    assert same is not policy
    assert policy_version(same) == policy_version(policy)
    assert questionnaire_id(same) == "cp-phar-71"
    changed = copy.deepcopy(raw_policy())
    changed["indications"]["multiple-myeloma"]["criteria"][1]["text"] = "Prescribed by an oncologist"
    other = parse_policy(changed)
    assert policy_version(other) != policy_version(policy)
    assert questionnaire_id(other) == questionnaire_id(policy)
    unflagged = copy.deepcopy(raw_policy())
    unflagged["indications"]["multiple-myeloma"]["criteria"][1]["documentable"] = False
    assert policy_version(parse_policy(unflagged)) != policy_version(policy)
    assert "CP.PHAR.71 I.A.2" not in by_link(build_questionnaire(parse_policy(unflagged), BASE, "P"))


@pytest.mark.parametrize(
    "value",
    ["yes", {"date": "x", "value": "y"}, {"value": "Level", "unit": ""}, {"date": "When", "unit": "mg"}, {"note": "x"}],
)
def test_a_bad_documentable_flag_refuses_to_load(value):
    data = raw_policy()
    data["indications"]["multiple-myeloma"]["criteria"][1]["documentable"] = value
    with pytest.raises(PolicyError, match="documentable"):
        parse_policy(data)
