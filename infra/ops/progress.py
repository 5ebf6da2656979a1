"""One line per resource event while ``up`` or ``destroy`` runs.

Fed by the Automation API's ``on_event`` (the engine's event stream). On a terminal the lines
are coloured by rich; in CI logs they are plain text with elapsed seconds, so a log read later
still shows what took long and what failed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pulumi.automation import EngineEvent, OpType
from rich.console import Console
from rich.markup import escape

_SYMBOLS = {
    OpType.CREATE: "+",
    OpType.UPDATE: "~",
    OpType.DELETE: "-",
    OpType.REPLACE: "+-",
    OpType.CREATE_REPLACEMENT: "++",
    OpType.DELETE_REPLACED: "--",
    OpType.READ: ">",
    OpType.REFRESH: "~",
    OpType.IMPORT: "=>",
}
_STYLES = {"+": "green", "-": "red", "~": "yellow"}


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _type(urn: str) -> str:
    return urn.split("::")[-2].rsplit("$", 1)[-1] if urn.count("::") >= 2 else ""


@dataclass
class Progress:
    """Turns engine events into lines; keeps per-resource durations and failures."""

    console: Console
    started: dict[str, float] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    unchanged: int = 0
    first: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: EngineEvent) -> None:
        # Events arrive on the SDK's gRPC server threads; keep lines whole and in order.
        with self._lock:
            self._handle(event)

    def _elapsed(self, timestamp: int) -> str:
        if self.first is None:
            self.first = float(timestamp)
        return f"{timestamp - self.first:7.0f}s"

    def _line(self, timestamp: int, symbol: str, urn: str, note: str = "") -> None:
        style = _STYLES.get(symbol[:1], "")
        text = f"{self._elapsed(timestamp)} {symbol:>2} {_type(urn)} {_name(urn)}"
        if note:
            text += f"  {note}"
        self.console.print(f"[{style}]{escape(text)}[/]" if style else escape(text))

    def _handle(self, event: EngineEvent) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            if meta.op == OpType.SAME:
                self.unchanged += 1
                return
            self.started[meta.urn] = float(event.timestamp)
            self._line(event.timestamp, _SYMBOLS.get(meta.op, "?"), meta.urn, meta.op.value)
        elif event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            if meta.urn not in self.started:
                return
            took = event.timestamp - self.started.pop(meta.urn)
            self.durations[meta.urn] = took
            symbol = _SYMBOLS.get(meta.op, "?")
            self._line(event.timestamp, symbol, meta.urn, f"{meta.op.value} done in {took:.0f}s")
        elif event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            self.failed.append(meta.urn)
            self._line(event.timestamp, "x", meta.urn, f"{meta.op.value} FAILED")
        elif event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
            diag = event.diagnostic_event
            where = f"{_name(diag.urn)}: " if diag.urn else ""
            self.console.print(f"[red]error:[/] {escape(where + diag.message.strip())}")
        elif event.summary_event is not None:
            summary = event.summary_event
            changes = ", ".join(
                f"{count} {getattr(op, 'value', op)}"
                for op, count in sorted(summary.resource_changes.items())
            )
            self.console.print(
                f"{self._elapsed(event.timestamp)} done in {summary.duration_seconds}s: "
                f"{changes or 'no changes'}"
            )

    def slowest(self, count: int = 5) -> list[tuple[str, float]]:
        """The resources that took longest, for the closing summary."""
        ranked = sorted(self.durations.items(), key=lambda item: -item[1])[:count]
        return [(_name(urn), seconds) for urn, seconds in ranked]
