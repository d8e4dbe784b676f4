"""parse_timestamp accepts every timestamp form App Store Connect sends."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_appstoreconnect.client.documents import parse_timestamp

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-04-15T18:13:40Z", datetime(2018, 4, 15, 18, 13, 40, tzinfo=UTC)),
        ("2018-04-15T18:13:40.000Z", datetime(2018, 4, 15, 18, 13, 40, tzinfo=UTC)),
        ("2020-04-24T05:40:26.0Z", datetime(2020, 4, 24, 5, 40, 26, tzinfo=UTC)),
        ("2019-03-07T13:11:26+0000", datetime(2019, 3, 7, 13, 11, 26, tzinfo=UTC)),
        ("2019-03-07T13:11:26.000+0000", datetime(2019, 3, 7, 13, 11, 26, tzinfo=UTC)),
        ("2022-07-18T11:17:21-07:00", datetime(2022, 7, 18, 18, 17, 21, tzinfo=UTC)),
        ("2024-01-21T20:52:18.921-08:00", datetime(2024, 1, 22, 4, 52, 18, 921000, tzinfo=UTC)),
        ("2024-01-21T20:52:18.1234567+0530", datetime(2024, 1, 21, 15, 22, 18, 123456, tzinfo=UTC)),
    ],
)
def test_apple_forms(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("text", ["", "2018-04-15", "2018-04-15T18:13:40", "yesterday", "2018-04-15T18:13:40+7"])
def test_rejects_non_timestamps(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_round_trips_isoformat(moment: datetime) -> None:
    assert parse_timestamp(moment.isoformat().replace("+00:00", "Z")) == moment
