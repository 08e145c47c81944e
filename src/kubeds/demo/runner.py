"""The demo's machinery: a plane in a temporary directory, kubectl calls, narration and checks.

Every step prints what it is about to show, the exact command, the command's real output, and then
checks what the story claims (a pod on every eligible node, an error text, ...). A claim that does
not hold stops the demo with a non-zero exit and says which step failed, so the demo doubles as an
end-to-end test (CI runs it).

The plane runs as a child process (``kubeds up``) so that kubectl talks to it exactly as it would
talk to a cluster: over HTTPS, with the kubeconfig ``kubeds up`` wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = ["DemoError", "Session"]


class DemoError(Exception):
    """A step's claim did not hold."""


@dataclass
class Session:
    """One demo run: the plane, the output stream and the step counter."""

    out: TextIO = sys.stdout
    kubectl: str = "kubectl"
    timeout: float = 60.0
    step: int = 0
    title: str = ""
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kubeds-demo-")))
    proc: subprocess.Popen[str] | None = None
    kubeconfig: Path | None = None
    started: float = field(default_factory=time.monotonic)

    # -- lifecycle ----------------------------------------------------------------------------

    def start_plane(self, *args: str) -> None:
        self.say(f"Starting a kubeds plane in {self.data_dir} ...")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kubeds", "up", "--port", "0", "--data-dir", str(self.data_dir), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("kubeds ready:"):
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise DemoError(f"kubeds up did not start: {line.strip()} {err.strip()}")
        fields = dict(part.split("=", 1) for part in line.split()[2:])
        self.kubeconfig = Path(fields["kubeconfig"])
        self.say(line.strip())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- narration ------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def chapter(self, title: str, explanation: str) -> None:
        self.step += 1
        self.title = title
        self.say()
        self.say(f"== {self.step}. {title}")
        for line in explanation.strip().splitlines():
            self.say(f"   {line.strip()}")

    def check(self, ok: bool, claim: str) -> None:
        if not ok:
            raise DemoError(f"step {self.step} ({self.title}): expected {claim}")
        self.say(f"   ✓ {claim}")

    # -- commands -------------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["KUBECACHEDIR"] = str(self.data_dir / "kubectl-cache")
        return env

    def run(
        self,
        *args: str,
        input: str | None = None,
        expect_fail: bool = False,
        show: bool = True,
        tool: str = "",
    ) -> subprocess.CompletedProcess[str]:
        binary = tool or self.kubectl
        shown = "kubeds" if binary == sys.executable else Path(binary).name
        cmd = [binary, "-m", "kubeds", *args] if binary == sys.executable else [binary, *args]
        if show:
            self.say(f"   $ {shown} {' '.join(args)}")
        res = subprocess.run(cmd, input=input, capture_output=True, text=True, env=self._env(), timeout=120)
        if show:
            for line in (res.stdout + res.stderr).rstrip().splitlines():
                self.say(f"     {line}")
        if expect_fail and res.returncode == 0:
            raise DemoError(
                f"step {self.step} ({self.title}): `{shown} {' '.join(args)}` was expected to fail"
            )
        if not expect_fail and res.returncode != 0:
            raise DemoError(
                f"step {self.step} ({self.title}): `{shown} {' '.join(args)}` failed: {res.stderr.strip()}"
            )
        return res

    def kubeds(self, *args: str, expect_fail: bool = False) -> subprocess.CompletedProcess[str]:
        return self.run(*args, expect_fail=expect_fail, tool=sys.executable)

    def get_json(self, *args: str) -> Any:
        return json.loads(self.run("get", *args, "-o", "json", show=False).stdout)

    def wait_for(self, what: str, probe: Callable[[], bool], *, timeout: float | None = None) -> None:
        """Poll ``probe`` until it holds, showing progress; fail the step after ``timeout``."""
        deadline = time.monotonic() + (timeout or self.timeout)
        shown = False
        while True:
            if probe():
                if shown:
                    self.say("")
                self.say(f"   ✓ {what}")
                return
            if time.monotonic() > deadline:
                if shown:
                    self.say("")
                raise DemoError(f"step {self.step} ({self.title}): timed out waiting until {what}")
            if not shown:
                self.out.write(f"   ... waiting until {what} ")
                shown = True
            self.out.write(".")
            self.out.flush()
            time.sleep(0.5)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
