"""Child process for the crash test: writes forever, printing each acknowledged write.

Usage: python crash_writer.py DB_PATH KEY_PREFIX. Each line is ``key counter``: the write that stored
``counter`` under ``key`` has been acknowledged. The parent SIGKILLs this process mid-writes.
"""

from __future__ import annotations

import asyncio
import sys

from kubeds.storage import SQLiteBackend


async def main(path: str, prefix: str) -> None:
    backend = SQLiteBackend(path)
    await backend.start()
    out = sys.stdout

    async def writer(w: int) -> None:
        key = f"{prefix}/w{w}"
        kv = await backend.create(key, b"0" + b"." * 1024)
        out.write(f"{key} 0\n")
        out.flush()
        i = 0
        while True:
            i += 1
            kv = await backend.update(key, str(i).encode() + b"." * 1024, expected_revision=kv.mod_revision)
            created = await backend.create(f"{key}/{i}", b"x" * 512)
            out.write(f"{key} {i}\n{created.key} 0\n")
            out.flush()

    await asyncio.gather(*(writer(w) for w in range(32)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
