"""The run/stop contract shared by controllers whose work is one inner task.

:meth:`Runnable.run` returns after :meth:`Runnable.stop` and re-raises when the caller itself is
cancelled, so a supervisor can either stop a controller politely or cancel its task. The inner
task is named :attr:`Runnable.task_name`: a class attribute, or an instance attribute set in
``__init__`` (``ManagedController`` uses the controller's name). This is the
``wait.Until(..., stopCh)`` shape of upstream ``pkg/controller/*/…_controller.go`` ``Run`` methods.
"""

from __future__ import annotations

import abc
import asyncio

__all__ = ["Runnable"]


class Runnable(abc.ABC):
    task_name = "controller"
    _inner: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def _run(self) -> None:
        """The controller's work, until cancelled."""

    async def run(self) -> None:
        """Run until :meth:`stop` (then return) or cancellation (then raise)."""
        self._inner = asyncio.get_running_loop().create_task(self._run(), name=self.task_name)
        try:
            await self._inner
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def stop(self) -> None:
        """Cancel the inner task and wait for it to end; :meth:`run` then returns."""
        if self._inner is not None:
            self._inner.cancel()
            await asyncio.gather(self._inner, return_exceptions=True)
            self._inner = None
