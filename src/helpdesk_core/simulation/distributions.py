"""Random durations for the simulator: exponential, lognormal, fixed and empirical.

Each distribution is an immutable value that draws from an explicit ``random.Random`` the
caller passes in (never the global one), so a seed reproduces a run bit for bit.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from attrs import field, frozen

from helpdesk_core._numbers import is_timedelta64, real_number
from helpdesk_core._time import to_timedelta
from helpdesk_core.errors import ConfigError, ValidationError

__all__ = ["Distribution", "Empirical", "Exponential", "Fixed", "LogNormal", "distribution_from"]


@frozen
class Exponential:
    """Exponential durations with the given mean."""

    mean: timedelta

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.mean, timedelta) or self.mean <= timedelta(0):
            raise ConfigError("the mean of an exponential must be positive", path="mean")

    @property
    def mean_seconds(self) -> float:
        """The mean in seconds."""
        return self.mean.total_seconds()

    def sample(self, rng: random.Random) -> float:
        """One draw, in seconds."""
        return rng.expovariate(1.0 / self.mean.total_seconds())

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"kind": "exponential", "mean": self.mean.total_seconds()}


@frozen
class LogNormal:
    """Lognormal durations given by their mean and the sigma of the underlying normal."""

    mean: timedelta
    sigma: float = 0.5

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.mean, timedelta) or self.mean <= timedelta(0):
            raise ConfigError("the mean of a lognormal must be positive", path="mean")
        sigma = real_number(self.sigma)
        if sigma is None or not 0 < sigma < 10:
            raise ConfigError("sigma must be between 0 and 10", path="sigma")
        if not isinstance(self.sigma, float):
            object.__setattr__(self, "sigma", float(sigma))

    @property
    def mean_seconds(self) -> float:
        """The mean in seconds."""
        return self.mean.total_seconds()

    def sample(self, rng: random.Random) -> float:
        """One draw, in seconds (the mean of the draws is ``mean``)."""
        mu = math.log(self.mean.total_seconds()) - self.sigma**2 / 2
        return rng.lognormvariate(mu, self.sigma)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"kind": "lognormal", "mean": self.mean.total_seconds(), "sigma": self.sigma}


@frozen
class Fixed:
    """Always the same duration."""

    value: timedelta

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, timedelta) or self.value < timedelta(0):
            raise ConfigError("a fixed duration is a timedelta >= 0", path="value")

    @property
    def mean_seconds(self) -> float:
        """The mean in seconds."""
        return self.value.total_seconds()

    def sample(self, rng: random.Random) -> float:
        """The duration, in seconds."""
        return self.value.total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"kind": "fixed", "value": self.value.total_seconds()}


#: The longest duration a scenario may give (a century: longer ones are mistakes, and
#: would run simulated time past the last representable instant).
MAX_DURATION = timedelta(days=36_525)


def _bounded(value: Any, path: str) -> timedelta:
    duration = to_timedelta(value, field=path)
    if duration > MAX_DURATION:
        raise ConfigError(
            f"a duration of at most {MAX_DURATION.days} days, got {duration.days} days",
            path=path,
        )
    return duration


def _samples(value: Any) -> tuple[float, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ConfigError("samples is a list of durations", path="samples")
    return tuple(
        float(_bounded(v, f"samples[{i}]").total_seconds()) for i, v in enumerate(value)
    )


@frozen
class Empirical:
    """Durations resampled from observed values (e.g. handle times from a real desk)."""

    samples: tuple[float, ...] = field(converter=_samples)

    def __attrs_post_init__(self) -> None:
        if not self.samples:
            raise ConfigError("an empirical distribution needs samples", path="samples")

    @property
    def mean_seconds(self) -> float:
        """The mean in seconds."""
        return sum(self.samples) / len(self.samples)

    def sample(self, rng: random.Random) -> float:
        """One of the samples, uniformly, in seconds."""
        return self.samples[rng.randrange(len(self.samples))]

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"kind": "empirical", "samples": list(self.samples)}


Distribution = Exponential | LogNormal | Fixed | Empirical


def distribution_from(doc: Any, *, path: str) -> Distribution:
    """Build a distribution from ``"30m"`` (exponential with that mean; a number of
    seconds or a duration, a ``timedelta``, pandas ``Timedelta`` or NumPy
    ``timedelta64``, too) or ``{"kind": "lognormal", "mean": "30m", "sigma": 0.6}`` and
    friends."""
    try:
        if (
            isinstance(doc, str | timedelta)
            or is_timedelta64(doc)
            or real_number(doc) is not None
        ):
            return Exponential(_bounded(doc, path))
        if not isinstance(doc, Mapping):
            raise ConfigError("a distribution is a duration or a mapping with 'kind'", path=path)
        kind = doc.get("kind", "exponential")
        allowed = {"exponential": {"kind", "mean"}, "lognormal": {"kind", "mean", "sigma"},
                   "fixed": {"kind", "value"}, "empirical": {"kind", "samples"}}
        if not isinstance(kind, str) or kind not in allowed:
            raise ConfigError(
                f"unknown distribution {kind!r} (choose from {', '.join(allowed)})",
                path=f"{path}.kind",
            )
        unknown = set(doc) - allowed[kind]
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(sorted(unknown))}", path=path)
        if kind == "exponential":
            return Exponential(_bounded(doc.get("mean"), f"{path}.mean"))
        if kind == "lognormal":
            sigma = real_number(doc.get("sigma", 0.5))
            if sigma is None:
                raise ConfigError("sigma must be a number", path=f"{path}.sigma")
            if not 0 < sigma < 10:  # (before float(): an int too large for one overflows)
                raise ConfigError("sigma must be between 0 and 10", path=f"{path}.sigma")
            return LogNormal(_bounded(doc.get("mean"), f"{path}.mean"), float(sigma))
        if kind == "fixed":
            return Fixed(_bounded(doc.get("value"), f"{path}.value"))
        samples = doc.get("samples")
        # a list, or any other collection of them (a NumPy array, a pandas Series)
        if isinstance(samples, str | bytes | Mapping) or not isinstance(samples, Iterable):
            raise ConfigError("samples must be a list of durations", path=f"{path}.samples")
        return Empirical(samples)
    except ConfigError as exc:
        if exc.path and exc.path.startswith(path):
            raise
        raise ConfigError(exc.message, path=f"{path}.{exc.path}" if exc.path else path) from exc
    except ValidationError as exc:
        field = exc.field
        if field is None or field == path or field.startswith(f"{path}."):
            raise ConfigError(exc.message, path=field or path) from exc
        raise ConfigError(exc.message, path=f"{path}.{field}") from exc
