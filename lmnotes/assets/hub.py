"""Whether the Hugging Face Hub can be used now: offline mode, endpoint, a probe that cannot hang.

The probe is one HEAD request made in a daemon thread abandoned after 3 s, so a hanging DNS
lookup or a silently dropped connection cannot stall a load; its answer is kept five
minutes per endpoint.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["hub_unavailable_reason"]

_HUB_PROBE_TIMEOUT = 3.0  # seconds; the whole probe is abandoned after this


def _is_true(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _hub_offline() -> bool:
    """``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` now, or as huggingface_hub read it."""
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    # huggingface_hub 1.x has is_offline_mode(); 0.x (with transformers 4.x) the constant.
    is_offline_mode = getattr(constants, "is_offline_mode", None)
    return _is_true(env) or (is_offline_mode() if is_offline_mode else constants.HF_HUB_OFFLINE)


def _hub_endpoint() -> str:
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _probe_hub(endpoint: str, timeout: float) -> None:
    """One HEAD request through huggingface_hub's HTTP session (honours proxies)."""
    from huggingface_hub.utils import get_session

    # No redirect option: httpx (huggingface_hub 1.x) and requests (0.x) name it differently,
    # and both follow no redirect on HEAD by default.
    get_session().head(endpoint, timeout=timeout)


def _hub_reachable(timeout: float = _HUB_PROBE_TIMEOUT) -> bool:
    """Whether the hub answers within ``timeout`` seconds (any HTTP status counts).

    The probe runs in a daemon thread that is abandoned at the deadline, so a hanging
    DNS lookup or a silently dropped connection cannot stall the caller.
    """
    answered = threading.Event()

    def probe() -> None:
        try:
            _probe_hub(_hub_endpoint(), timeout)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return
        answered.set()

    threading.Thread(target=probe, name="lmnotes-hub-probe", daemon=True).start()
    return answered.wait(timeout)


# Result of the last reachability probe per endpoint: (time.monotonic(), reachable).
_PROBES: dict[str, tuple[float, bool]] = {}
_PROBE_TTL = 300.0  # seconds a probe result is reused within one process


def hub_unavailable_reason() -> str | None:
    """Why the hub cannot be used now, or ``None`` when it can.

    Offline mode (``HF_HUB_OFFLINE``, ``TRANSFORMERS_OFFLINE``, or huggingface_hub's own
    setting) is checked first; otherwise the endpoint (``HF_ENDPOINT`` or the default) is
    probed, at most once every five minutes per endpoint in a process.

    Returns
    -------
    str or None
        A reason to put in an error message (``"offline mode is on ..."``,
        ``"<endpoint> did not answer within 3 s"``), or ``None``.
    """
    if _hub_offline():
        return "offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)"
    endpoint = _hub_endpoint()
    checked = _PROBES.get(endpoint)
    if checked is None or time.monotonic() - checked[0] > _PROBE_TTL:
        checked = _PROBES[endpoint] = (time.monotonic(), _hub_reachable())
    if not checked[1]:
        return f"{endpoint} did not answer within {_HUB_PROBE_TIMEOUT:g} s"
    return None
