from ccplane.features.steps import outbox_order, parse_outbox


def test_parse_outbox_entry_decodes_fields_and_keeps_its_key() -> None:
    fields = parse_outbox("/ccplane-outbox/1732600000.12-bl",
                          "CcplaneBlacklisted|Domain=acme|Caller=%2B55%2011%2099999|Did=4830|"
                          "Uniqueid=1732600000.12|At=1732600000")
    assert fields == {"UserEvent": "CcplaneBlacklisted", "Outbox": "1732600000.12-bl", "Domain": "acme",
                      "Caller": "+55 11 99999", "Did": "4830", "Uniqueid": "1732600000.12",
                      "At": "1732600000"}


def test_parse_outbox_ignores_what_is_not_a_report() -> None:
    assert parse_outbox("/ccplane-outbox/x", "SomethingElse|A=1") is None
    assert parse_outbox("/ccplane-outbox/x", "") is None
    # a pair without "=" is skipped, the rest kept
    assert parse_outbox("/ccplane-outbox/k", "CcplaneIvr|junk|Step=enter") == {
        "UserEvent": "CcplaneIvr", "Outbox": "k", "Step": "enter"}


def test_replay_order_is_time_then_call_then_step_number() -> None:
    entries = [
        {"Outbox": "c1-iv10", "Uniqueid": "c1", "At": "100"},
        {"Outbox": "c1-iv2", "Uniqueid": "c1", "At": "100"},
        {"Outbox": "c0-bl", "Uniqueid": "c0", "At": "99"},
        {"Outbox": "c1-iv1", "Uniqueid": "c1", "At": "100"},
    ]
    assert [e["Outbox"] for e in sorted(entries, key=outbox_order)] == ["c0-bl", "c1-iv1", "c1-iv2", "c1-iv10"]
