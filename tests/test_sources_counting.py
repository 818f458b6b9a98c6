from datetime import UTC, datetime, timedelta

from app.sources.cache import ResultCache
from app.sources.counting import CountingClient, KeptAnswers

AT = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


class Echo:
    def instant(self, query, at=None):
        return ("instant", query, at)

    def range(self, query, start, end, step=None):
        return ("range", query, start, end, step)


def test_kept_answers_ask_each_question_once_within_their_ttl():
    counting = CountingClient(Echo())
    clock = [0.0]
    kept = KeptAnswers(counting, ResultCache(clock=lambda: clock[0]), ("test",), ttl_s=3600.0)
    assert kept.instant("up", AT) == ("instant", "up", AT)
    assert kept.instant("up", AT) == ("instant", "up", AT)
    assert kept.range("up", AT - timedelta(hours=1), AT, 60.0) == kept.range(
        "up", AT - timedelta(hours=1), AT, 60.0
    )
    assert counting.requests == 2
    kept.instant("up", AT + timedelta(hours=1))  # another time is another question
    kept.range("up", AT - timedelta(hours=1), AT, 30.0)
    assert counting.requests == 4
    clock[0] = 3601.0
    kept.instant("up", AT)
    assert counting.requests == 5
