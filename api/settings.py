"""One typed settings object, read from the environment (prefix SOMOS_) or `.env`."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.early_warning import MAX_FALSE_ALARM, Rule

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org/bot"
MIN_METRICS_TOKEN = 16
MIN_WEBHOOK_SECRET = 32
# Fewer different characters than this is not chance: 32 random hexadecimal digits show
# 7 or fewer about once in 3 × 10^7 tries; "aaaa…" or "abab…" always do.
MIN_WEBHOOK_SECRET_SYMBOLS = 8
PLACEHOLDERS = {"changeme", "change-me", "secret", "token", "xxx", "placeholder"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOMOS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: str = "development"
    data_dir: Path = Path("data")
    database_url: str | None = None
    key_file: Path | None = None
    # Base64 of the key file's JSON: for deployments that keep secrets in the environment.
    keys: SecretStr | None = None

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Without it, GET /metrics answers only this machine; with it, only this bearer token.
    metrics_token: SecretStr | None = None

    # Peers whose X-Forwarded-For names the client (addresses or networks, comma-separated;
    # "*" trusts any peer). uvicorn's own FORWARDED_ALLOW_IPS is read when this is unset.
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        validation_alias=AliasChoices("SOMOS_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS",
                                      "trusted_proxies"),
    )

    suppression_k: int = Field(default=5, ge=2)
    # Early warnings (storage.early_warning): the window and how many windows before it make
    # the baseline; the chance that one run raises any false alarm; the fewest reports an
    # alert needs; how often the job runs.
    alert_window_days: int = Field(default=14, ge=1, le=90)
    alert_baseline_windows: int = Field(default=6, ge=1, le=26)
    alert_false_alarm: float = Field(default=0.001, gt=0, le=MAX_FALSE_ALARM)
    alert_min_count: int = Field(default=3, ge=1)
    alert_interval_minutes: int = Field(default=60, ge=1, le=24 * 60)
    retention_days: int = Field(default=365, ge=1)
    draft_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    require_totp: bool = True
    session_hours: int = Field(default=8, ge=1, le=72)
    # Web pages: a session unused this long is gone (the absolute limit is session_hours).
    web_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    departments: str = "05,13,19,23,52,54,70"
    # Who reads the reports, as the bot names it after each report and in its welcome
    # ("el equipo de protección de <name> en su municipio"); empty: the team is not named.
    organization_name: str = Field(default="", max_length=80)
    locale: str = "es"
    # Lower Argon2 cost: only for the test suite, never in production.
    fast_kdf: bool = False

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("SOMOS_TELEGRAM_API_URL debe empezar por http:// o https://")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # an empty variable means no token: this machine only
        if len(value.get_secret_value()) < MIN_METRICS_TOKEN:
            raise ValueError(
                f"SOMOS_METRICS_TOKEN necesita al menos {MIN_METRICS_TOKEN} caracteres "
                "(por ejemplo, la salida de `openssl rand -hex 32`)."
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if not item or (item == "*" and value.strip() == "*"):
                continue  # empty: no proxy is trusted
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"SOMOS_TRUSTED_PROXIES: «{item}» no es una dirección IP ni una red "
                    "(por ejemplo 127.0.0.1,10.0.0.0/8); «*» solo, para confiar en todas."
                ) from None
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError(
                "SOMOS_WEBHOOK_URL necesita SOMOS_WEBHOOK_SECRET: sin él, cualquiera podría "
                "enviar actualizaciones falsas al webhook."
            )
        return self

    @model_validator(mode="after")
    def _no_placeholders_in_production(self) -> Settings:
        if self.environment == "production":
            for name in ("telegram_bot_token", "webhook_secret", "metrics_token"):
                secret = getattr(self, name)
                if secret is not None and secret.get_secret_value().lower() in PLACEHOLDERS:
                    raise ValueError(f"{name} tiene un valor de ejemplo; ponga el real.")
            if self.fast_kdf:
                raise ValueError("SOMOS_FAST_KDF no se permite en producción.")
            secret = self.webhook_secret
            if secret is not None and (
                len(secret.get_secret_value()) < MIN_WEBHOOK_SECRET
                or len(set(secret.get_secret_value())) < MIN_WEBHOOK_SECRET_SYMBOLS
            ):
                raise ValueError(
                    f"SOMOS_WEBHOOK_SECRET necesita al menos {MIN_WEBHOOK_SECRET} caracteres "
                    "al azar en producción (por ejemplo, la salida de `openssl rand -hex 32`): "
                    "Telegram lo envía con cada actualización y es lo único que las distingue "
                    "de las falsas.")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'somos.db').resolve()}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "somos-keys.json"

    @property
    def telegram_file_url(self) -> str:
        """The file download base: the API URL with its trailing `/bot` as `/file/bot`."""
        base = self.telegram_api_url
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base

    @property
    def alert_rule(self) -> Rule:
        return Rule(window_days=self.alert_window_days,
                    baseline_windows=self.alert_baseline_windows,
                    false_alarm=self.alert_false_alarm, min_count=self.alert_min_count)

    @property
    def covered_departments(self) -> tuple[str, ...]:
        return tuple(code.strip().zfill(2) for code in self.departments.split(",") if code.strip())
