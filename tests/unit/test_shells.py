"""The pure parts of the dynamic shell (resources/shell.py): Pulumi values to the core's and back, and results."""

from __future__ import annotations

from pulumi.dynamic import CheckFailure
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as PULUMI_UNKNOWN

from mypos_provider.core.values import UNKNOWN, Changes, Checked, Problem, Read, is_unknown
from mypos_provider.resources.shell import check_result, diff_result, from_pulumi, read_result, to_pulumi


def test_values_not_known_yet_become_the_cores_unknown_at_any_depth():
    props = {
        "payload_url": PULUMI_UNKNOWN,
        "secret": Unknown(),
        "terminal_ids": ["90004889", PULUMI_UNKNOWN],
        "nested": {"key": Unknown()},
        "is_active": True,
    }

    values = from_pulumi(props)

    assert values["payload_url"] is UNKNOWN and values["secret"] is UNKNOWN
    assert values["terminal_ids"] == ["90004889", UNKNOWN] and values["nested"] == {"key": UNKNOWN}
    assert values["is_active"] is True


def test_the_pickled_provider_never_reaches_the_core():
    assert from_pulumi({"__provider": "blob", "event": "pos.payment.completed"}) == {"event": "pos.payment.completed"}


def test_the_cores_unknown_goes_back_as_pulumis_at_any_depth():
    values = to_pulumi({"payload_url": UNKNOWN, "terminal_ids": [UNKNOWN], "nested": {"key": UNKNOWN}, "n": 1})

    assert isinstance(values["payload_url"], Unknown) and isinstance(values["terminal_ids"][0], Unknown)
    assert isinstance(values["nested"]["key"], Unknown) and values["n"] == 1


def test_the_cores_unknown_is_found_inside_lists_and_mappings():
    assert is_unknown([1, {"a": UNKNOWN}]) and not is_unknown(["a", {"b": 1}]) and not is_unknown("text")


def test_each_problem_becomes_a_check_failure_on_its_field():
    checked = Checked({"payload_url": "ftp://x", "secret": UNKNOWN}, [Problem("payload_url", "use https")])

    result = check_result(checked)

    assert [(f.property, f.reason) for f in result.failures] == [("payload_url", "use https")]
    assert all(isinstance(f, CheckFailure) for f in result.failures)
    assert isinstance(result.inputs["secret"], Unknown)


def test_a_problem_whose_value_must_not_be_shown_is_reported_for_the_resource_not_its_field():
    # The engine prints a failing property's value beside its problem: a URL's credentials with it.
    checked = Checked({"payload_url": "https://u:p@x"}, [Problem("payload_url", "payload_url must not ...", True)])

    assert [(f.property, f.reason) for f in check_result(checked).failures] == [("", "payload_url must not ...")]


def test_a_gone_object_reads_as_an_empty_id_for_the_engine_to_drop():
    result = read_result(None)

    assert (result.id, result.outs) == ("", {})


def test_a_live_object_reads_with_its_outputs_and_inputs():
    result = read_result(Read("w-1", {"payload_url": "u", "created_on": "d"}, {"payload_url": "u"}))

    assert (result.id, result.outs, result.inputs) == (
        "w-1",
        {"payload_url": "u", "created_on": "d"},
        {"payload_url": "u"},
    )


def test_a_diff_not_attempted_reports_no_change():
    result = diff_result(None)

    assert (result.changes, result.replaces, result.delete_before_replace) == (False, [], False)


def test_changes_say_whether_anything_changed():
    assert not Changes().any and Changes(updated=("secret",)).any and Changes(replaced=("event",)).any


def test_a_read_that_could_not_ask_keeps_the_recorded_inputs():
    result = read_result(Read("w-1", {"payload_url": "u"}, None))

    assert (result.id, result.outs, result.inputs) == ("w-1", {"payload_url": "u"}, None)
