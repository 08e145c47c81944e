"""``kubeds node ...``: add, remove, fail and recover simulated nodes, and set their conditions.

Every action is an ordinary API call on Node objects, so it works against any running plane and
everything it does can be done with plain kubectl too (docs/simulation.md):

* ``add`` creates Nodes shaped like a kubelet's registration (standard labels, capacity and
  allocatable, addresses, nodeInfo; :func:`kubeds.nodes.templates.new_node`), optionally with
  labels, taints and static pod manifests (annotation ``kubeds.io/static-pods``). The node
  simulator then posts their conditions and Leases.
* ``remove`` deletes the Node and its Lease (the machine is decommissioned).
* ``fail`` / ``recover`` set / remove ``kubeds.io/failed: "true"``.
* ``condition NAME Type=Status`` sets ``kubeds.io/condition-<Type>``.

Exit codes: 0 success, 1 an operation failed (or no plane answers), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from kubeds.cli import connect
from kubeds.client import ApiClient, errors
from kubeds.models import quantity, taints as taint_mod
from kubeds.nodes import annotations as knobs, templates

__all__ = ["add_parser", "run"]

PROGRESS_THRESHOLD = 50
CONCURRENCY = 32
MSG_NO_PLANE = connect.MSG_NO_PLANE
MSG_NO_KUBECONFIG = connect.MSG_NO_KUBECONFIG
MSG_BAD_LABEL = "invalid label {text!r}: want key=value"
MSG_NO_NAMES = "give node names, or --count N (with --prefix)"
MSG_REMOVE_TAINT = "--taint {text!r} removes a taint; node add only adds them"


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--kubeconfig",
        default=argparse.SUPPRESS,
        help="kubeconfig of the plane (default $KUBECONFIG, ./.kubeds)",
    )
    p = sub.add_parser(
        "node",
        help="add, remove, fail, recover simulated nodes and set their conditions",
        description="Manage simulated nodes of a running kubeds plane (see docs/simulation.md).",
    )
    p.add_argument(
        "--kubeconfig", default=None, help="kubeconfig of the plane (default $KUBECONFIG, ./.kubeds)"
    )
    actions = p.add_subparsers(dest="node_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", parents=[common], help="create simulated nodes")
    add.add_argument("names", nargs="*", metavar="NAME", help="node names")
    add.add_argument("--count", type=int, default=0, help="add N nodes named PREFIX<n> (next free numbers)")
    add.add_argument("--prefix", default="node-", help="name prefix for --count (default node-)")
    add.add_argument("--label", action="append", default=[], metavar="K=V", help="extra label (repeatable)")
    add.add_argument("--taint", action="append", default=[], metavar="K=V:EFFECT", help="taint (repeatable)")
    add.add_argument("--cpu", default="4", help="cpu capacity (default 4)")
    add.add_argument("--memory", default="16Gi", help="memory capacity (default 16Gi)")
    add.add_argument("--pods", default="110", help="pod capacity (default 110)")
    add.add_argument(
        "--static-pod", action="append", default=[], metavar="FILE", help="static pod manifest (repeatable)"
    )
    add.set_defaults(node_func=_add)

    for name, text, func in (
        ("remove", "delete nodes (and their Leases): the machines are decommissioned", _remove),
        ("fail", "stop the nodes' heartbeats (they go NotReady, then get tainted)", _fail),
        ("recover", "resume the nodes' heartbeats", _recover),
    ):
        action = actions.add_parser(name, parents=[common], help=text, description=text)
        action.add_argument("names", nargs="+", metavar="NAME")
        action.set_defaults(node_func=func)

    cond = actions.add_parser(
        "condition", parents=[common], help="set a node condition, e.g. DiskPressure=True"
    )
    cond.add_argument("name", metavar="NAME")
    cond.add_argument("condition", metavar="Type=Status")
    cond.set_defaults(node_func=_condition)
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------
# building Nodes


def _labels(texts: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise UsageError(MSG_BAD_LABEL.format(text=text))
        labels[key] = value
    return labels


def _taints(texts: Sequence[str]) -> list[dict[str, Any]]:
    try:
        to_add, to_remove = taint_mod.parse_taints(texts)
    except taint_mod.TaintSpecError as exc:
        raise UsageError(str(exc)) from exc
    if to_remove:
        raise UsageError(MSG_REMOVE_TAINT.format(text=next(t for t in texts if t.endswith("-"))))
    return to_add


def _static_pods(files: Sequence[str]) -> list[dict[str, Any]]:
    manifests: list[dict[str, Any]] = []
    for name in files:
        try:
            docs = list(yaml.safe_load_all(Path(name).read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError) as exc:
            raise UsageError(f"cannot read static pod manifest {name}: {exc}") from exc
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "List":
                manifests.extend(doc.get("items") or [])
            elif doc:
                manifests.append(doc)
    try:
        knobs.encode_static_pods(manifests)
    except knobs.StaticPodsError as exc:
        raise UsageError(str(exc)) from exc
    return manifests


def _node_builder(args: argparse.Namespace) -> Callable[[str], dict[str, Any]]:
    """Validate the node flags once; the returned function builds one Node body per name."""
    for text in (args.cpu, args.memory, args.pods):
        try:
            quantity.parse_quantity(text)
        except quantity.QuantityError as exc:
            raise UsageError(f"invalid quantity {text!r}: {exc}") from exc
    labels, node_taints = _labels(args.label), _taints(args.taint)
    static = knobs.encode_static_pods(_static_pods(args.static_pod)) if args.static_pod else ""

    def build(name: str) -> dict[str, Any]:
        body = templates.new_node(
            name,
            labels=labels,
            taints=node_taints,
            cpu=args.cpu,
            memory=args.memory,
            pods=args.pods,
            internal_ip=templates.derive_node_ip(name),
        )
        if static:
            body["metadata"]["annotations"][knobs.STATIC_PODS_ANNOTATION] = static
        return body

    return build


# ---------------------------------------------------------------------------------------------
# actions


class _Progress:
    """Counts done items; past the threshold it reports on stderr (a live line on a tty)."""

    def __init__(self, total: int, verb: str) -> None:
        self.total, self.verb, self.done = total, verb, 0
        self.quiet = total <= PROGRESS_THRESHOLD
        self.tty = sys.stderr.isatty()
        self._step = max(1, total // 10)

    def tick(self) -> None:
        self.done += 1
        if self.quiet:
            return
        if self.tty:
            print(f"\r{self.verb} {self.done}/{self.total} nodes", end="", file=sys.stderr, flush=True)
        elif self.done % self._step == 0 or self.done == self.total:
            print(f"{self.verb} {self.done}/{self.total} nodes", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if not self.quiet and self.tty:
            print(file=sys.stderr)


async def _each(
    names: Sequence[str], verb: str, op: Callable[[str], Any], *, report: Callable[[str], str]
) -> int:
    """Run ``op(name)`` for every name (bounded concurrency); print results; the exit code."""
    progress = _Progress(len(names), verb)
    sem = asyncio.Semaphore(CONCURRENCY)
    failures = 0

    async def one(name: str) -> None:
        nonlocal failures
        async with sem:
            try:
                await op(name)
            except errors.ApiError as exc:
                failures += 1
                print(f"Error from server ({exc.reason or exc.code}): {exc.message}", file=sys.stderr)
            else:
                if progress.quiet:
                    print(report(name))
            progress.tick()

    await asyncio.gather(*(one(n) for n in names))
    progress.finish()
    if not progress.quiet:
        print(f"{len(names) - failures} nodes {verb.lower()}")
    return 1 if failures else 0


async def _add(api: ApiClient, args: argparse.Namespace) -> int:
    nodes = api.resource("v1", "nodes")
    if args.count < 0:
        raise UsageError("--count must not be negative")
    if not args.names and not args.count:
        raise UsageError(MSG_NO_NAMES)
    build = _node_builder(args)
    names = list(args.names)
    if args.count:
        existing = {n["metadata"]["name"] for n in (await nodes.list_all()).get("items") or []}
        taken = existing | set(names)
        index = 1
        for _ in range(args.count):
            while f"{args.prefix}{index}" in taken:
                index += 1
            names.append(f"{args.prefix}{index}")
            taken.add(names[-1])
    return await _each(
        names,
        "Created",
        lambda n: nodes.create(build(n), field_manager="kubeds"),
        report=lambda n: f"node/{n} created",
    )


async def _remove(api: ApiClient, args: argparse.Namespace) -> int:
    nodes = api.resource("v1", "nodes")
    leases = api.resource("coordination.k8s.io/v1", "leases")

    async def remove(name: str) -> None:
        await nodes.delete(name)
        try:
            await leases.delete(name, namespace=templates.LEASE_NAMESPACE)
        except errors.NotFound:
            pass

    return await _each(args.names, "Deleted", remove, report=lambda n: f"node/{n} deleted")


def _annotate(api: ApiClient, values: dict[str, str | None]) -> Callable[[str], Any]:
    nodes = api.resource("v1", "nodes")
    return lambda name: nodes.patch(name, {"metadata": {"annotations": values}}, field_manager="kubeds")


async def _fail(api: ApiClient, args: argparse.Namespace) -> int:
    op = _annotate(api, {knobs.FAILED_ANNOTATION: "true"})
    return await _each(args.names, "Failed", op, report=lambda n: f"node/{n} failed (heartbeats stopped)")


async def _recover(api: ApiClient, args: argparse.Namespace) -> int:
    op = _annotate(api, {knobs.FAILED_ANNOTATION: None})
    return await _each(args.names, "Recovered", op, report=lambda n: f"node/{n} recovered")


async def _condition(api: ApiClient, args: argparse.Namespace) -> int:
    try:
        key, status = knobs.condition_annotation(args.condition)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    ctype = key.removeprefix(knobs.CONDITION_ANNOTATION_PREFIX)
    op = _annotate(api, {key: status})
    return await _each([args.name], "Updated", op, report=lambda n: f"node/{n} condition {ctype}={status}")


# ---------------------------------------------------------------------------------------------
# entry point


async def _main(args: argparse.Namespace) -> int:
    async def body(api: ApiClient, server: str) -> int:
        try:
            code: int = await args.node_func(api, args)
        except UsageError as exc:
            raise connect.UsageError(f"{args.node_action}: {exc}") from exc
        return code

    return await connect.run_with_client("kubeds node", getattr(args, "kubeconfig", None), body)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))
