"""The settings the session manager reads: one dataclass, each field with its default, help,
choices and least value (``GlueMagics`` makes its traits from them).

Below ``sessions``, ``clients`` and ``watchdog``, which read them; no IPython here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glue_magics.cost import DPU_HOUR_PRICE


def _setting(
    default: Any, help: str, choices: tuple[str, ...] = (), minimum: float | None = None
) -> Any:
    """A setting's default, with the help, choices and least value ``GlueMagics`` makes its
    trait from (so ``%config`` refuses a value below it in one line, keeping the old one)."""
    return field(default=default, metadata={"help": help, "choices": choices, "min": minimum})


@dataclass
class Settings:
    """What the manager reads, at each use, so a changed setting applies at once.

    ``GlueMagics`` passes itself (its traits have these names and take these defaults);
    code without IPython passes an instance of this class.  ``config_options`` is the
    "config" source of session options (``%config GlueMagics.role = ...``).
    """

    config_options: Mapping[str, Any] = field(default_factory=dict)
    stop_on_exit: bool = _setting(
        True, "Stop the sessions this kernel created when it shuts down or restarts."
    )
    auto_restart: bool = _setting(
        False, "Create a new session when the current one has timed out or stopped."
    )
    dpu_hour_price: float = _setting(
        DPU_HOUR_PRICE, "USD per DPU-hour, for cost estimates.", minimum=0
    )
    wait_timeout: float = _setting(1200.0, "Seconds to wait for a session to be READY.", minimum=0)
    start: str = _setting(
        "wait",
        "How a new session is waited for: READY in the cell that created it, or in the "
        "background while other cells run (the first cell that needs the session waits for it).",
        ("wait", "background"),
    )
    stop_wait: float = _setting(30.0, "Seconds to wait for STOPPED after a stop.", minimum=0)
    retry_mode: str = _setting("standard", "botocore retry mode.", ("standard", "adaptive"))
    max_attempts: int = _setting(5, "botocore max attempts per call.", minimum=1)
    local_provision_seconds: float = _setting(
        3.0, "Provisioning time of sessions on the embedded local endpoint.", minimum=0
    )
    watchdog: bool = _setting(
        True,
        "With stop_on_exit: a small process stops this kernel's sessions if it dies (SIGKILL too).",
    )
    tag_sessions: bool = _setting(
        True,
        "Tag sessions created here (glue-magics:creator, user, host, notebook, kernel): "
        "how listing your sessions and reconnecting to the last one find them.",
    )
    budget_usd: float = _setting(
        0.0,
        "USD a session may cost: a warning at 80 %, then budget_action; 0: GLUE_BUDGET_USD, "
        "else none.",
        minimum=0,
    )
    budget_action: str = _setting(
        "refuse",
        "Over budget_usd: refuse new statements, or stop the session.",
        ("refuse", "stop"),
    )
    fetch_max_mb: float = _setting(
        512.0,
        "Largest result a SQL query's -o or a fetch brings home, in MB of compressed Arrow; "
        "a bigger one is refused with its size (the whole result always travels, -n only "
        "caps the rows shown).",
        minimum=0,
    )
    connect_ca_file: str = _setting(
        "",
        "Spark Connect sessions: a CA certificate (PEM) to trust, e.g. an external local "
        "endpoint's; '' (or GLUE_CONNECT_CA_FILE): the system's, and the embedded endpoint's.",
    )


def setting_traits() -> dict[str, Any]:
    """A trait per ``Settings`` field: its default, type, help, choices and least
    value as there."""
    from traitlets import Bool, Enum, Float, Int, Unicode

    traits = {}
    for f in dataclasses.fields(Settings):
        help, choices = f.metadata.get("help"), f.metadata.get("choices")
        if help is None:
            continue
        kind = (
            Enum if choices else {bool: Bool, int: Int, float: Float, str: Unicode}[type(f.default)]
        )
        args = (list(choices), f.default) if choices else (f.default,)
        bound = {"min": f.metadata["min"]} if f.metadata.get("min") is not None else {}
        traits[f.name] = kind(*args, help=help, **bound).tag(config=True)
    return traits
