"""Row checks: Pinpoint's import rules, Athena's CSV, and a fast path that changes nothing."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.local.athena.csv_format import csv_line
from infra.local.pinpoint.endpoints import EndpointLimits, merge_endpoint, validate_endpoint
from infra.local.pinpoint.import_rows import RowError, csv_items
from services.importer import rows
from services.importer.rows import (
    MAX_SAMPLE,
    InvalidResultError,
    RowReport,
    check_rows,
    parse_header,
)

HEADER = [
    "Id",
    "Address",
    "ChannelType",
    "OptOut",
    "Attributes.tier",
    "Attributes.interests",
    "Attributes.interests",
    "Metrics.score",
    "Location.Latitude",
    "User.UserAttributes.plan",
    "Demographic.Platform",
]
VALID: dict[str, str | None] = {
    "Id": "e1",
    "Address": "ana@example.com",
    "ChannelType": "EMAIL",
    "OptOut": "NONE",
    "Attributes.tier": "gold",
    "Metrics.score": "9.5",
    "Location.Latitude": "38.7",
    "User.UserAttributes.plan": "pro",
    "Demographic.Platform": "ios",
}


Interests = tuple[str | None, str | None]


def line(values: dict[str, str | None], interests: Interests = ("a", "b")) -> str:
    cells = []
    seen_interest = 0
    for column in HEADER:
        if column == "Attributes.interests":
            cells.append(interests[seen_interest])
            seen_interest += 1
        else:
            cells.append(values.get(column))
    return csv_line(cells)


def run(
    text: str | bytes, *, fast: bool = True, chunk_size: int = 1 << 20
) -> tuple[RowReport, str]:
    data = text.encode() if isinstance(text, str) else text
    out = io.BytesIO()
    report = check_rows(io.BytesIO(data), out, fast=fast, chunk_size=chunk_size)
    return report, out.getvalue().decode()


def verdict(row: str) -> tuple[str, str | None] | None:
    report, _ = run(csv_line(HEADER) + row)
    assert report.rows_read == 1
    if not report.sample:
        return None
    return report.sample[0].code, report.sample[0].column


TIER = "Attributes.tier"
Verdict = tuple[str, str | None] | None
ROW_CASES: list[tuple[str, dict[str, str | None], tuple[str, str | None] | None]] = [
    ("valid", {}, None),
    ("nulls elsewhere", {k: None for k in VALID if k != "Id"}, None),
    ("empty strings elsewhere", {k: "" for k in VALID if k != "Id"}, None),
    ("id NULL", {"Id": None}, ("MISSING_ID", "Id")),
    ("id empty", {"Id": ""}, ("MISSING_ID", "Id")),
    ("id blank", {"Id": "   "}, ("MISSING_ID", "Id")),
    ("id with spaces inside", {"Id": " e 1"}, None),
    ("attribute of 100 chars", {"Attributes.tier": "x" * 100}, None),
    ("attribute of 101 chars", {"Attributes.tier": "x" * 101}, ("VALUE_TOO_LONG", TIER)),
    ("100 chars, 200 bytes", {"Attributes.tier": "é" * 100}, None),
    ("101 chars, 202 bytes", {"Attributes.tier": "é" * 101}, ("VALUE_TOO_LONG", TIER)),
    (
        "user attribute of 101",
        {"User.UserAttributes.plan": "p" * 101},
        ("VALUE_TOO_LONG", "User.UserAttributes.plan"),
    ),
    ("long address is not an attribute", {"Address": "a" * 300}, None),
    ("commas and quotes", {"Address": 'a,"b",c', "Attributes.tier": 'say "hi", ok'}, None),
    ("line break", {"Address": "a\nb"}, ("LINE_BREAK_OR_TAB", "Address")),
    ("carriage return", {"Attributes.tier": "a\rb"}, ("LINE_BREAK_OR_TAB", "Attributes.tier")),
    ("tab", {"Demographic.Platform": "a\tb"}, ("LINE_BREAK_OR_TAB", "Demographic.Platform")),
    ("metric integer", {"Metrics.score": "42"}, None),
    ("metric Athena double", {"Metrics.score": "1.0E10"}, None),
    ("metric negative exponent", {"Metrics.score": "-2.5E-7"}, None),
    ("metric big but finite", {"Metrics.score": "1.0E300"}, None),
    ("metric +.5", {"Metrics.score": "+.5"}, None),
    ("metric word", {"Metrics.score": "high"}, ("NOT_A_NUMBER", "Metrics.score")),
    ("metric NaN", {"Metrics.score": "NaN"}, ("NOT_A_NUMBER", "Metrics.score")),
    ("metric Infinity", {"Metrics.score": "Infinity"}, ("NOT_A_NUMBER", "Metrics.score")),
    ("metric overflow", {"Metrics.score": "1e999"}, ("NOT_A_NUMBER", "Metrics.score")),
    ("metric underscore", {"Metrics.score": "1_000"}, ("NOT_A_NUMBER", "Metrics.score")),
    ("metric padded", {"Metrics.score": " 5"}, ("NOT_A_NUMBER", "Metrics.score")),
    ("latitude word", {"Location.Latitude": "north"}, ("NOT_A_NUMBER", "Location.Latitude")),
    ("channel lower case", {"ChannelType": "email"}, ("INVALID_CHANNEL_TYPE", "ChannelType")),
    ("channel unknown", {"ChannelType": "FAX"}, ("INVALID_CHANNEL_TYPE", "ChannelType")),
    ("channel longest", {"ChannelType": "APNS_VOIP_SANDBOX"}, None),
    ("opt out", {"OptOut": "maybe"}, ("INVALID_OPT_OUT", "OptOut")),
    ("opt out ALL", {"OptOut": "ALL"}, None),
    ("endpoint over 15 KB", {"Address": "a" * 16_000}, ("ENDPOINT_TOO_LARGE", None)),
    ("long row, small endpoint", {"Address": "a" * 3_000}, None),
    ("non-ASCII everywhere", {"Address": "ä@ß.de", "Demographic.Platform": "安卓"}, None),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [case[1:] for case in ROW_CASES], ids=[case[0] for case in ROW_CASES]
)
def test_row_checks(changes: dict[str, str | None], expected: Verdict) -> None:
    assert verdict(line(VALID | changes)) == expected


def test_a_row_with_the_wrong_number_of_values_is_rejected() -> None:
    header = csv_line(["Id", "Attributes.tier"])
    report, written = run(header + '"e1","gold","extra"\n"e2"\n"e3","ok"\n')

    assert [(r.row_number, r.code) for r in report.sample] == [
        (1, "WRONG_FIELD_COUNT"),
        (2, "WRONG_FIELD_COUNT"),
    ]
    assert written == 'Id,Attributes.tier\n"e3","ok"\n'


def test_a_value_over_lines_is_one_rejected_row_and_the_next_row_still_counts() -> None:
    header = csv_line(["Id", "Address"])
    body = csv_line(["e1", "first\nsecond\nthird"]) + csv_line(["e2", "ok"])

    report, written = run(header + body)

    assert (report.rows_read, report.rows_rejected) == (2, 1)
    assert report.sample[0].code == "LINE_BREAK_OR_TAB"
    assert written.splitlines()[1:] == ['"e2","ok"']


def test_rows_are_copied_as_athena_wrote_them_and_nulls_stay_empty() -> None:
    body = csv_line(["e1", "gold", None]) + csv_line(["e2", "", "3"])

    report, written = run(csv_line(["Id", "Attributes.tier", "Metrics.score"]) + body)

    assert report.rows_to_import == 2
    assert written == "Id,Attributes.tier,Metrics.score\n" + body


def test_a_missing_final_newline_and_crlf_lines_are_read() -> None:
    text = '"Id","Attributes.tier"\r\n"e1","gold"\r\n"e2","x"'

    report, written = run(text)

    assert (report.rows_read, report.rows_rejected) == (2, 0)
    assert written == 'Id,Attributes.tier\n"e1","gold"\r\n"e2","x"\n'


def test_a_quote_that_never_closes_rejects_the_last_row() -> None:
    report, written = run('"Id"\n"e1"\n"e2\n')

    assert (report.rows_read, report.rows_rejected) == (2, 1)
    assert report.sample[0].code == "MALFORMED_ROW"
    assert written == 'Id\n"e1"\n'


def test_a_quote_that_never_closes_mid_file_stops_before_memory_grows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rows, "MAX_PENDING_BYTES", 200)
    text = '"Id"\n"e1"\n"e2\n' + "".join(csv_line([f"e{n}"]) for n in range(100))

    with pytest.raises(InvalidResultError, match="a quoted value never ends"):
        run(text, chunk_size=16)
    with pytest.raises(InvalidResultError, match="header runs past"):
        run('"Id' + "x" * 300, chunk_size=16)


def test_invalid_utf8_rejects_only_its_row() -> None:
    report, written = run(b'"Id","Attributes.tier"\n"e1","\xff"\n"e2","caf\xc3\xa9"\n')

    assert [r.code for r in report.sample] == ["INVALID_ENCODING"]
    assert written.splitlines()[1:] == ['"e2","café"']


def test_a_blank_line_is_a_row_without_an_id() -> None:
    report, _ = run('"Id"\n\n"e1"\n')

    assert [(r.row_number, r.code) for r in report.sample] == [(1, "MISSING_ID")]


def test_the_sample_keeps_the_first_twenty_rejections_and_the_counts_all() -> None:
    rows = "".join(csv_line([None if n % 2 else f"e{n}"]) for n in range(100))

    report, _ = run(csv_line(["Id"]) + rows)

    assert (report.rows_read, report.rows_rejected, report.rows_to_import) == (100, 50, 50)
    assert len(report.sample) == MAX_SAMPLE
    assert report.sample[0].row_number == 2
    assert report.sample[-1].row_number == 40


def test_more_than_fifty_values_of_one_attribute_are_rejected() -> None:
    header = csv_line(["Id"] + ["Attributes.tag"] * 51)

    report, _ = run(header + csv_line(["e1"] + ["t"] * 51) + csv_line(["e2"] + ["t"] * 50 + [None]))

    assert [(r.row_number, r.code) for r in report.sample] == [(1, "TOO_MANY_VALUES")]


def test_rejections_never_carry_the_values() -> None:
    secret = "4111-1111-1111-1111"
    rows: list[dict[str, str | None]] = [
        {"Attributes.tier": secret * 10},
        {"Metrics.score": secret},
        {"ChannelType": secret},
        {"OptOut": secret},
        {"Address": secret + "\n"},
    ]
    report, _ = run(csv_line(HEADER) + "".join(line(VALID | row) for row in rows))

    assert report.rows_rejected == len(rows)
    assert all(secret not in rejection.model_dump_json() for rejection in report.sample)


HEADER_CASES = [
    ([], "no header row"),
    (["Attributes.tier"], "no Id column"),
    (["Id", "Nickname"], "'Nickname'"),
    (["Id", "attributes.tier"], "'attributes.tier'"),
    (["Id", "Attributes."], "'Attributes.'"),
    (["Id", "Address", "Address"], "more than once"),
    (["Id", "Metrics.score", "Metrics.score"], "more than once"),
    (["Id", "Attributes." + "n" * 51], "longer than 50"),
    (["Id"] + [f"Attributes.a{n}" for n in range(251)], "at most 250"),
]


@pytest.mark.parametrize(("header", "message"), HEADER_CASES)
def test_headers_pinpoint_cannot_import_fail_the_whole_file(
    header: list[str], message: str
) -> None:
    with pytest.raises(InvalidResultError, match=message):
        run(csv_line(header) if header else "")


def test_a_header_pinpoint_accepts() -> None:
    header = ["Id", "Attributes." + "n" * 50, "Attributes.x", "Attributes.x", "EndpointStatus"]
    header += [f"Metrics.m{n}" for n in range(247)]
    assert len(parse_header(header)) == len(header)
    report, written = run("\ufeff" + csv_line(["Id", "User.UserId"]))
    assert report.rows_read == 0
    assert written == "Id,User.UserId\n"


# ------------------------------------------------------------------ the fast path and chunks


def _mixed_file() -> str:
    rows = [line(VALID | {"Id": f"e{n}"}) for n in range(200)]
    rows[3] = line(VALID | {"Id": None})
    rows[50] = line(VALID | {"Address": "multi\nline"})
    rows[51] = line(VALID | {"Address": 'quote "inside"'})
    rows[120] = line(VALID | {"Attributes.tier": "ü" * 60})
    rows[121] = line(VALID | {"Metrics.score": "1e5"})
    rows[199] = line(VALID | {"Metrics.score": "x"})
    return csv_line(HEADER) + "".join(rows)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, 1000, 1 << 20])
def test_chunk_boundaries_and_the_fast_path_change_nothing(chunk_size: int) -> None:
    text = _mixed_file()
    expected = run(text, fast=False)

    assert run(text, chunk_size=chunk_size) == expected
    assert run(text, chunk_size=chunk_size, fast=False) == expected
    report, _ = expected
    assert (report.rows_read, report.rows_rejected) == (200, 3)


ODD = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from('ab ,"\t\n\ré安😀x'), max_size=8),
    st.builds(str.__mul__, st.sampled_from(["x", "é", "😀", '"']), st.integers(95, 105)),
    st.sampled_from(["EMAIL", "SMS", "email", "ALL", "NONE", "1.5", "-2", "1.0E10", "NaN"]),
)
NUMBER = st.from_regex(r"[+-]?[0-9]{0,3}\.?[0-9]{0,3}([eE][+-]?[0-9]{1,3})?", fullmatch=True)
TEXT = st.text(alphabet=st.sampled_from('ab ,"é安😀x'), max_size=12)
LONG = st.builds(str.__mul__, st.sampled_from(["a", "é", "😀", '"']), st.integers(2000, 16000))


def mostly(valid: st.SearchStrategy[str | None]) -> st.SearchStrategy[str | None]:
    """Plausible values, with odd ones often enough to hit every rule."""
    return st.integers(0, 9).flatmap(lambda n: ODD if n == 0 else valid)


COLUMN_VALUES = {
    "Id": mostly(TEXT.filter(str.strip)),
    "Address": st.integers(0, 4).flatmap(lambda n: LONG if n == 0 else mostly(TEXT)),
    "ChannelType": mostly(st.sampled_from(["EMAIL", "SMS", "APNS_VOIP", "PUSH"])),
    "OptOut": mostly(st.sampled_from(["ALL", "NONE"])),
    "Metrics.score": mostly(NUMBER),
    "Location.Latitude": mostly(NUMBER),
}


@st.composite
def result_rows(draw: st.DrawFn) -> list[str | None]:
    return [draw(COLUMN_VALUES.get(column, mostly(TEXT))) for column in HEADER]


@settings(max_examples=150, deadline=None)
@given(st.lists(result_rows(), max_size=5))
def test_rows_we_pass_are_rows_pinpoint_imports(rows: list[list[str | None]]) -> None:
    text = csv_line(HEADER) + "".join(csv_line(row) for row in rows)

    slow = run(text, fast=False)
    assert run(text) == slow
    assert run(text, chunk_size=5) == slow

    report, written = slow
    items = list(csv_items(written))
    assert len(items) == report.rows_to_import
    for _, item in items:
        assert not isinstance(item, RowError), item
        _pinpoint_accepts(item)


def _pinpoint_accepts(item: dict[str, Any]) -> None:
    """The emulator's endpoint rules for a new endpoint (it raises when a limit is hit)."""
    fields = {key: value for key, value in item.items() if key != "Id"}
    endpoint = merge_endpoint(
        None,
        fields,
        endpoint_id=item["Id"],
        application_id="a" * 32,
        now="2026-11-22T10:00:00.000Z",
        cohort_id="42",
    )
    validate_endpoint(endpoint, set(), EndpointLimits())


# ------------------------------------------------------------------ memory


class _GeneratedResult:
    """A result file made as it is read: the test itself holds no more than a chunk."""

    def __init__(self, rows: int) -> None:
        self._lines = self._generate(rows)
        self._pending = b""

    @staticmethod
    def _generate(rows: int) -> Iterator[bytes]:
        yield csv_line(HEADER).encode()
        for n in range(rows):
            yield (
                f'"ep-{n:08d}","user{n}@example.com","EMAIL","NONE","gold","a","b",'
                f'"{n % 97}.5","38.7","pro","ios"\n'
            ).encode()

    def read(self, size: int = -1, /) -> bytes:
        parts = [self._pending]
        total = len(self._pending)
        for chunk in self._lines:
            parts.append(chunk)
            total += len(chunk)
            if total >= size:
                break
        data = b"".join(parts)
        self._pending = data[size:]
        return data[:size]


class _Discard:
    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes | memoryview, /) -> int:
        self.written += len(data)
        return len(data)


def _peak_memory(rows: int) -> tuple[int, int]:
    sink = _Discard()
    tracemalloc.start()
    try:
        report = check_rows(_GeneratedResult(rows), sink, chunk_size=64 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.rows_to_import == rows
    return peak, sink.written


def test_memory_does_not_grow_with_the_number_of_rows() -> None:
    small_peak, _ = _peak_memory(5_000)
    large_peak, written = _peak_memory(60_000)

    assert written > 5_000_000
    assert large_peak < 1_000_000  # a few chunks, not the megabytes that went through
    assert large_peak < small_peak * 1.5
