"""``kubeds.bench.etcdlocal``: finding the etcd binary, its version, and a throwaway member that
starts healthy and is gone after the context (a real etcd: ``/usr/bin/etcd`` from etcd-server)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubeds.bench import etcdlocal


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


def _no_etcd_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(etcdlocal.BINARY_ENV, raising=False)
    monkeypatch.setattr("kubeds.bench.etcdlocal.shutil.which", lambda _: None)
    monkeypatch.setattr(etcdlocal, "DEFAULT_BINARY", "/nonexistent/etcd")


def test_env_binary_comes_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _script(tmp_path / "etcd", "exit 0")
    monkeypatch.setenv(etcdlocal.BINARY_ENV, str(fake))
    assert etcdlocal.find_etcd() == str(fake)


def test_env_binary_that_is_not_executable_is_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_etcd_anywhere(monkeypatch)
    plain = tmp_path / "etcd"
    plain.write_text("not a program")
    monkeypatch.setenv(etcdlocal.BINARY_ENV, str(plain))
    with pytest.raises(etcdlocal.EtcdNotFound, match="apt-get install etcd-server"):
        etcdlocal.find_etcd()


async def test_missing_binary_fails_before_anything_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_etcd_anywhere(monkeypatch)
    with pytest.raises(etcdlocal.EtcdNotFound) as exc:
        async with etcdlocal.local_etcd():
            raise AssertionError("no etcd must start")
    assert str(exc.value) == etcdlocal.ETCD_MISSING


@pytest.mark.parametrize(
    ("output", "want"),
    [
        ("etcd Version: 3.4.23\\nGit SHA: Not provided\\nGo Version: go1.19.8", "3.4.23"),
        ("etcd Version: 3.5.9", "3.5.9"),
        ("something else", ""),
        ("", ""),
    ],
)
def test_etcd_version(tmp_path: Path, output: str, want: str) -> None:
    fake = _script(tmp_path / "etcd", f'printf "{output}"')
    assert etcdlocal.etcd_version(str(fake)) == want


def test_etcd_version_of_a_missing_binary_is_empty() -> None:
    assert etcdlocal.etcd_version("/nonexistent/etcd") == ""


async def test_local_etcd_is_healthy_inside_and_gone_after() -> None:
    async with etcdlocal.local_etcd() as member:
        assert member.running and member.healthy()
        data_dir = member.data_dir
        assert data_dir.exists()
    assert not member.running and not member.healthy()
    assert not data_dir.exists()


def test_a_member_that_exits_is_reported_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _script(tmp_path / "etcd", "echo 'flag provided but not defined: --bogus' >&2; exit 3")
    monkeypatch.setenv(etcdlocal.BINARY_ENV, str(fake))
    member = etcdlocal.EtcdMember("m", tmp_path / "m.etcd")
    with pytest.raises(RuntimeError, match=r"(?s)exited with 3.*flag provided but not defined"):
        member.start(timeout=10.0)
    assert not member.running
