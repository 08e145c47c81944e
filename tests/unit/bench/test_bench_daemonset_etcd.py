"""``kubeds bench daemonset --storage etcd``: the etcd/sqlite ratios, the 3x verdict, the report and
JSON, and the command's argument checks. (No upstream counterpart: the benchmark is kubeds' own.)"""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from kubeds.bench import daemonset, daemonset_etcd, etcdlocal
from kubeds.bench.daemonset import DaemonSetBenchResult
from kubeds.bench.daemonset_etcd import DaemonSetCompareResult, ratio
from kubeds.cli import bench


def result(storage: str, rollout_s: float, update_s: float) -> DaemonSetBenchResult:
    return DaemonSetBenchResult(
        nodes=1000,
        storage=storage,
        setup_s=3.0,
        rollout_s=rollout_s,
        update_s=update_s,
        budget=100,
        max_unavailable_seen=100,
        peak_rss_mb=400.0,
        writes=19000,
        floor_s=0.5,
        watch_events=10000,
    )


def compare(sqlite: tuple[float, float], etcd: tuple[float, float]) -> DaemonSetCompareResult:
    return DaemonSetCompareResult(
        sqlite=result("sqlite", *sqlite),
        etcd=result("etcd", *etcd),
        etcd_server="a throwaway local etcd 3.4.23",
    )


@pytest.mark.parametrize(
    ("etcd_s", "sqlite_s", "want"),
    [
        (30.0, 15.0, 2.0),
        (10.0, 20.0, 0.5),  # etcd faster: below 1
        (45.01, 15.0, 3.0),  # rounded to 0.01
        (1.0, 0.0, None),  # no sqlite time: no ratio rather than a division by zero
        (0.0, 0.0, None),
    ],
)
def test_ratio(etcd_s: float, sqlite_s: float, want: float | None) -> None:
    assert ratio(etcd_s, sqlite_s) == want


@pytest.mark.parametrize(
    ("sqlite", "etcd", "ratios", "meets"),
    [
        ((15.0, 17.5), (30.0, 35.0), {"rollout": 2.0, "rolling_update": 2.0, "total": 2.0}, True),
        # Exactly 3x is within 3x; the total carries the verdict even when one phase is over.
        ((10.0, 10.0), (40.0, 20.0), {"rollout": 4.0, "rolling_update": 2.0, "total": 3.0}, True),
        ((10.0, 10.0), (40.0, 20.4), {"rollout": 4.0, "rolling_update": 2.04, "total": 3.02}, False),
        ((10.0, 10.0), (5.0, 5.0), {"rollout": 0.5, "rolling_update": 0.5, "total": 0.5}, True),
    ],
)
def test_ratios_per_phase_and_verdict(
    sqlite: tuple[float, float], etcd: tuple[float, float], ratios: dict[str, float], meets: bool
) -> None:
    r = compare(sqlite, etcd)
    assert r.ratios() == ratios
    assert r.meets_target is meets


def test_render_shows_both_runs_the_ratios_and_the_verdict() -> None:
    text = compare((15.0, 17.5), (30.0, 70.0)).render()
    assert "in-process plane (sqlite storage" in text and "in-process plane (etcd storage" in text
    assert "etcd: a throwaway local etcd 3.4.23" in text.splitlines()[0]
    row = next(line for line in text.splitlines() if line.startswith("  total (rollout + rolling update)"))
    assert "32.50 s" in row and "100.00 s" in row and "3.08x" in row and "MISSES TARGET" in row
    # The ratio row ("  rollout   ..."), not a run's own "  rollout: create to ..." line.
    rollout = next(line for line in text.splitlines() if line.startswith("  rollout "))
    assert "2.00x" in rollout and "meets target" in rollout
    assert text.splitlines()[-1] == "  etcd within 3x of sqlite (total): MISSES TARGET"


def test_render_without_a_sqlite_time_says_n_a() -> None:
    text = compare((0.0, 0.0), (1.0, 1.0)).render()
    assert "n/a" in text and text.endswith("etcd within 3x of sqlite (total): MISSES TARGET")


def test_json_has_both_results_and_the_ratios() -> None:
    d = json.loads(json.dumps(compare((15.0, 17.5), (30.0, 35.0)).as_dict()))
    assert d["sqlite"]["storage"] == "sqlite" and d["etcd"]["storage"] == "etcd"
    assert d["sqlite"]["rollout_s"] == 15.0 and d["etcd"]["update_s"] == 35.0
    assert d["ratios"] == {"rollout": 2.0, "rolling_update": 2.0, "total": 2.0}
    assert d["meets_target"] is True and d["nodes"] == 1000
    assert d["etcd_server"] == "a throwaway local etcd 3.4.23"


# -- the command ---------------------------------------------------------------------------------


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kubeds")
    bench.add_parser(parser.add_subparsers())
    return parser.parse_args(["bench", *argv])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("daemonset", "--storage", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379"), "not supported"),
        (("daemonset", "--etcd-endpoints", "http://127.0.0.1:2379"), "throwaway local etcd"),
        (("schedule", "--storage", "etcd"), "--storage applies to the daemonset scenario"),
        (("storage", "--etcd-endpoints", "http://127.0.0.1:2379"), "goes with --compare etcd"),
        (
            ("daemonset", "--storage", "etcd", "--compare", "etcd"),
            "--compare applies to the storage scenario",
        ),
    ],
)
def test_bad_combinations_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert bench.run(_parse(*argv)) == 2
    assert message in capsys.readouterr().err


def test_storage_choices() -> None:
    assert _parse("daemonset").storage == "sqlite"
    assert _parse("daemonset", "--storage", "etcd").storage == "etcd"
    with pytest.raises(SystemExit):
        _parse("daemonset", "--storage", "postgres")


def test_storage_etcd_runs_the_comparison(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    async def fake_compare(**kwargs: Any) -> DaemonSetCompareResult:
        seen.update(kwargs)
        kwargs["progress"]("etcd: starting")
        return compare((15.0, 17.5), (30.0, 35.0))

    async def no_single_run(**kwargs: Any) -> DaemonSetBenchResult:
        raise AssertionError("--storage etcd must not run the single benchmark")

    monkeypatch.setattr(daemonset_etcd, "run_compare", fake_compare)
    monkeypatch.setattr(daemonset, "run", no_single_run)
    assert bench.run(_parse("daemonset", "--storage", "etcd", "--nodes", "7", "--json")) == 0
    out = capsys.readouterr()
    assert seen["nodes"] == 7
    assert json.loads(out.out)["ratios"]["total"] == 2.0
    assert "... etcd: starting" in out.err


def test_storage_sqlite_keeps_the_single_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def fake_run(**kwargs: Any) -> DaemonSetBenchResult:
        assert kwargs["nodes"] == 5000 and "storage" not in kwargs
        return result("sqlite", 15.0, 17.5)

    monkeypatch.setattr(daemonset, "run", fake_run)
    assert bench.run(_parse("daemonset")) == 0
    out = capsys.readouterr().out
    assert out.startswith("daemonset benchmark: 1000 nodes") and "etcd" not in out


def test_missing_etcd_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(etcdlocal.BINARY_ENV, raising=False)
    monkeypatch.setattr("kubeds.bench.etcdlocal.shutil.which", lambda _: None)
    monkeypatch.setattr(etcdlocal, "DEFAULT_BINARY", "/nonexistent/etcd")

    async def no_single_run(**kwargs: Any) -> DaemonSetBenchResult:
        raise AssertionError("nothing runs without etcd")

    monkeypatch.setattr(daemonset, "run", no_single_run)
    assert bench.run(_parse("daemonset", "--storage", "etcd", "--nodes", "3")) == 1
    err = capsys.readouterr().err
    assert "apt-get install etcd-server" in err and err.startswith("kubeds bench daemonset: ")
