"""Pure pieces of the alert and report pages: board order, filters, SVG charts."""
from __future__ import annotations

import re
from datetime import date

import pytest

from ccplane.web.pages.alerts import BadFilter, board_order, filters
from ccplane.web.pages.charts import _nice_max, bars, stacked
from ccplane.web.pages.reports import FormError, parse


def _a(id_: int, level: str, status: str, at: str) -> dict[str, object]:
    return {"id": id_, "level": level, "status": status, "created_at": at}


def test_board_puts_untaken_first_then_level_then_the_oldest() -> None:
    alerts = [_a(1, "green", "new", "2026-12-06T10:00:00+00:00"), _a(2, "red", "acknowledged", "2026-12-06T09:00:00+00:00"),
              _a(3, "yellow", "new", "2026-12-06T10:05:00+00:00"), _a(4, "red", "new", "2026-12-06T10:07:00+00:00"),
              _a(5, "red", "new", "2026-12-06T10:06:00+00:00"), _a(6, "red", "closed", "2026-12-06T08:00:00+00:00")]
    assert [a["id"] for a in board_order(alerts)] == [5, 4, 3, 1, 2]  # a closed alert leaves the board


def test_alert_filters_name_the_bad_field() -> None:
    f = filters({"from": "2026-12-01", "to": "2026-12-03", "level": "red"})
    assert (f["from"], f["to"], f["level"], f["status"]) == (date(2026, 12, 1), date(2026, 12, 3), "red", None)
    assert f["since"].isoformat() == "2026-12-01T00:00:00-03:00" and f["until"].isoformat() == "2026-12-04T00:00:00-03:00"
    for query, field in (({"from": "01/12/2026"}, "from"), ({"from": "2026-12-03", "to": "2026-12-01"}, "to"),
                         ({"level": "purple"}, "level"), ({"status": "x"}, "status"), ({"offset": "-x"}, "offset")):
        with pytest.raises(BadFilter) as err:
            filters(query)
        assert err.value.field == field


def test_report_form_becomes_the_api_query() -> None:
    kind, form, q = parse({"kind": "listing", "from": "2026-12-01", "to": "2026-12-01", "queues": "vendas,suporte",
                           "service_level": "30"})
    assert kind == "listing" and form["queues"] == "vendas,suporte"
    assert (q.from_.isoformat(), q.to.isoformat(), q.service_level, q.timezone) == (
        "2026-12-01T00:00:00-03:00", "2026-12-02T00:00:00-03:00", 30, "America/Sao_Paulo")
    for query, field in (({"kind": "nope"}, "kind"), ({"from": "ontem"}, "from"), ({"group_by": "x"}, "group_by"),
                         ({"service_level": "0"}, "service_level"), ({"queues": "q" * 1001}, "queues")):
        with pytest.raises(FormError) as err:
            parse(query)
        assert err.value.field == field


def test_charts_escape_labels_and_scale() -> None:
    svg = bars("Alertas <por> hora", [("<script>", 3), ("b&c", 7)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "b&amp;c" in svg
    assert 'aria-label="Alertas &lt;por&gt; hora"' in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([0-9.]+)"', svg)]
    assert heights[1] / heights[0] == pytest.approx(7 / 3)
    assert [_nice_max(v) for v in (0, 1, 3, 7, 10, 11, 230)] == [1, 1, 5, 10, 10, 20, 500]
    assert "<rect" not in bars("vazio", [])
    two = stacked("t", [("fila", [("Atendidas", 3, "green"), ("Abandonadas", 1, "red")])])
    widths = [float(w) for w in re.findall(r'<rect x="[0-9.]+" y="6" width="([0-9.]+)"', two)]
    assert widths[0] / widths[1] == pytest.approx(3)
