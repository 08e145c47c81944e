"""SIGKILL in the middle of writes loses nothing that was acknowledged and corrupts nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from kubeds.storage import SQLiteBackend

WRITER = Path(__file__).with_name("crash_writer.py")


async def test_sigkill_mid_writes_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    for round_ in range(3):  # kill, reopen and kill again: recovery itself must be crash-safe
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(db), f"/registry/crash{round_}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        acked: dict[str, int] = {}
        for line in proc.stdout:
            key, counter = line.split()
            acked[key] = max(acked.get(key, 0), int(counter))
            if len(acked) >= 1500 + round_ * 500:
                break
        os.kill(proc.pid, signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, err
        for line in rest.splitlines():  # acknowledgements still in the pipe
            key, counter = line.split()
            acked[key] = max(acked.get(key, 0), int(counter))

        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()

        backend = SQLiteBackend(db)
        await backend.start()
        try:
            missing = []
            for key, counter in acked.items():
                kv = await backend.get(key)
                if kv is None:
                    missing.append(key)
                    continue
                stored = int(kv.value.split(b".")[0]) if kv.value[:1].isdigit() else 0
                assert stored >= counter, f"{key}: acknowledged {counter}, stored {stored}"
            assert not missing, f"{len(missing)} acknowledged keys lost, e.g. {missing[:3]}"
            # The store still works after recovery.
            await backend.create(f"/registry/after-crash/{round_}", b"ok")
        finally:
            await backend.close()
