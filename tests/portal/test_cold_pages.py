"""A page asked for the first time after a release switch reads what the release computed when it
was published (its figures, its honour roll, the open intervals' list orders), never the whole
register (issue 25). Measured as SQLite's own count of virtual-machine steps per request, which
does not depend on the machine's speed: the same cold pages on a register ten times larger, with
the same recent changes (an offender page also lists who paid up lately), must cost about the
same, where a scan of the intervals or a sort of every offender grows tenfold."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from portal import create_app
from publisher.store import analyze, make_engine
from tests.congkhai.test_release_figures import DAYS, varied
from tests.registers import SHORT_HISTORY, build_register

STEP = 100  # SQLite calls the progress handler every STEP virtual-machine instructions
PAGES = (
    "/", "/provinces", "/provinces/ha-noi", "/releases/{day}",
    "/lists/offenders", "/lists/offenders?sort=months&per_page=50", "/lists/offenders?sort=since",
    "/lists/offenders?sort=name", "/lists/offenders?province=79&sort=arrears",
    "/lists/evading", "/lists/honour-roll", "/lists/honour-roll?sort=since",
    "/lists/honour-roll?province=01",
)


def steps_per_page(settings: dict) -> dict[str, int]:
    """SQLite steps (in hundreds) of each page asked once on a portal just started."""
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": settings["CONGKHAI_DATA_DIR"],
                      "CONGKHAI_STATEMENT_TIMEOUT_MS": 0})
    counted = {"steps": 0}
    with app.app_context():
        from portal.database import db

        @event.listens_for(db.engine, "connect")
        def _count(connection, _record):
            def step():
                counted["steps"] += 1
                return 0
            connection.set_progress_handler(step, STEP)
        db.engine.dispose()
    client, steps = app.test_client(), {}
    for page in PAGES:
        path = page.format(day=DAYS[-1].isoformat())
        counted["steps"] = 0
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        steps[path] = counted["steps"]
    return steps


@pytest.fixture(scope="module")
def registers(tmp_path_factory):
    """The same three days of reports, with 6 and with 60 employers in each province's report, the
    planner's statistics gathered as the publisher does after a release of 10,000 rows or more."""
    built = {}
    for size in (6, 60):
        settings = build_register(tmp_path_factory.mktemp(f"cold{size}"), DAYS, varied, policy=SHORT_HISTORY,
                                  files=False, rows_per_province=size)
        engine = make_engine(settings["DATABASE_URL"])
        with engine.begin() as conn:
            analyze(conn)
        engine.dispose()
        built[size] = settings
    return built


def test_a_cold_page_costs_about_the_same_on_a_register_ten_times_larger(registers):
    """Before the release kept its figures, roll and orders, these pages grew 7 to 10 times (the
    release page 7.7 times, the honour roll 10 times); a page walking a list's order still grows a
    little with where its rows fall in that order (the sample's names cluster by province), and the
    smallest pages cost a few hundred steps, so 2,000 steps are allowed besides."""
    small, large = steps_per_page(registers[6]), steps_per_page(registers[60])
    grown = {path: (small[path], large[path]) for path in small if large[path] >= 4 * small[path] + 20}
    assert not grown, f"(small, large) hundreds of steps: {grown}"
