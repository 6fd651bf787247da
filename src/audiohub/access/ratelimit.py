"""Rate limits for logins and uploads, by the `limits` library: a moving window per caller, in
memory (one process) or in Redis (RATE_LIMIT_STORAGE, shared by every gateway)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage, strategies
from limits.errors import ConfigurationError as LimitsConfigurationError

from audiohub.config import AuthSettings
from audiohub.errors import ConfigurationError, RateLimitedError


class RateLimits:
    def __init__(self, settings: AuthSettings) -> None:
        try:
            self.login = parse(settings.login_rate)
            self.upload = parse(settings.upload_rate)
            backend = storage.storage_from_string(settings.rate_limit_storage)
        except (ValueError, LimitsConfigurationError) as exc:
            raise ConfigurationError(
                f"RATE_LIMIT_LOGIN/RATE_LIMIT_UPLOADS take '10/minute' or '100/hour', "
                f"RATE_LIMIT_STORAGE memory:// or redis://host:6379/1: {exc}") from exc
        self.limiter = strategies.MovingWindowRateLimiter(backend)

    def hit(self, item: RateLimitItem, what: str, *who: str) -> None:
        """Count one request; RateLimitedError (429, Retry-After) once the window is full."""
        if not self.limiter.hit(item, what, *who):
            raise self._refusal(item, what, *who)

    def check(self, item: RateLimitItem, what: str, *who: str) -> None:
        """Refuse, without counting, when the window is already full."""
        if not self.limiter.test(item, what, *who):
            raise self._refusal(item, what, *who)

    def _refusal(self, item: RateLimitItem, what: str, *who: str) -> RateLimitedError:
        reset = self.limiter.get_window_stats(item, what, *who).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        return RateLimitedError(f"too many {what} attempts ({item}); try again in {wait} s", wait)
