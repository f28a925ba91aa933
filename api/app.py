"""The composition root: settings → storage → flows → bot → FastAPI, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from telegram.error import TelegramError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.background import start_background
from api.clock import install_clock
from api.metrics import Metrics, RequestMetrics, create_metrics
from api.problems import document_problems, install_problem_handlers
from api.routes import (
    aggregates,
    alerts,
    audit,
    auth,
    bulletins,
    grants,
    health,
    me,
    metrics,
    reports,
    routing_rules,
    telegram_webhook,
    triage,
    users,
)
from api.settings import Settings
from api.web import (
    account,
    admin_audit,
    admin_lines,
    admin_rules,
    admin_users,
    bulletin,
    dashboard,
    errors,
    queue,
    report,
    signin,
    team,
)
from api.web.render import STATIC
from api.web.security import with_page_headers
from bot.conversations import Conversations
from bot.telegram import build_application, register_commands
from flows.conversation import build_flow
from flows.municipalities import Catalog
from flows.reports import Promise
from storage.migrate import current_revision, head_revision
from storage.store import Store, open_store

# Seconds between two getUpdates calls (each waits up to 10 s for the next update). With
# none, a busy bot asked again the instant an answer came, one update per call; a short
# pause lets the updates that arrive meanwhile come in one call: 13 calls a report became
# about 4 in the conversation bench, ~20 ms less CPU a report (bench/RESULTS.md). An update
# waits at most this long, and only when another one has just arrived.
POLL_INTERVAL = 0.05

log = logging.getLogger("somos")


def build_store(settings: Settings) -> Store:
    return open_store(
        database_url=settings.resolved_database_url,
        key_file=settings.resolved_key_file,
        keys_from_env=settings.keys.get_secret_value() if settings.keys else None,
        fast_kdf=settings.fast_kdf,
    )


def build_conversations(
    settings: Settings, store: Store, metrics: Metrics | None = None
) -> Conversations:
    catalog = Catalog.load(departments=settings.covered_departments)
    promise = Promise(organization=settings.organization_name)
    conversations = Conversations(
        store=store, flow=build_flow(catalog, promise),
        draft_ttl=timedelta(minutes=settings.draft_ttl_minutes),
        default_locale=settings.locale, promise=promise,
    )
    if metrics is None:
        return conversations
    return replace(conversations, count_update=metrics.count_bot_update)


def quiet_noisy_loggers() -> None:
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    for name in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    store: Store = app.state.store
    app_metrics: Metrics = app.state.metrics
    if await current_revision(store.engine) != head_revision():
        raise RuntimeError("La base de datos no está inicializada: ejecute `somos init`.")
    application: Any = None
    if settings.telegram_bot_token is None:
        log.warning("Bot de Telegram desactivado: defina TELEGRAM_BOT_TOKEN para activarlo.")
    else:
        application = build_application(
            token=settings.telegram_bot_token.get_secret_value(),
            base_url=settings.telegram_api_url,
            base_file_url=settings.telegram_file_url,
            conversations=build_conversations(settings, store, app_metrics),
        )
        await application.initialize()
        try:
            await register_commands(application.bot)
        except TelegramError as error:  # the menu can wait; the conversations cannot
            log.warning("setMyCommands failed: %s", type(error).__name__)
        await application.start()
        if settings.webhook_url:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            await application.bot.set_webhook(settings.webhook_url, secret_token=secret)
            log.info("Bot de Telegram activo (webhook).")
        else:
            await application.updater.start_polling(poll_interval=POLL_INTERVAL, timeout=10)
            log.info("Bot de Telegram activo (polling).")
    app.state.telegram = application
    tasks = start_background(store, application.bot if application is not None else None,
                             succeeded=app_metrics.background_succeeded,
                             alerts=(settings.alert_rule, settings.alert_interval_minutes * 60.0))
    # Everything loaded at start-up lives as long as the process: moving it out of the
    # collector's generations keeps full collections short while a request builds a big
    # table (an export's ~12,000 cells spent half its time in the collector before).
    gc.freeze()
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if application is not None:
            if application.updater and application.updater.running:
                await application.updater.stop()
            await application.stop()
            await application.shutdown()
        await store.close()


# /docs: Swagger UI from the package's own files (api/static, with their license), so the
# page asks nothing of any other server; its policy lets the browser load nothing else.
# ReDoc is off: FastAPI's page loads it from a CDN.
DOCS_PAGE = """<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Somos — API</title>
<link rel="stylesheet" href="/static/swagger-ui.css">
<link rel="icon" type="image/png" href="/static/swagger-ui-favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""
DOCS_HEADERS = {
    # Swagger UI sets style attributes, hence 'unsafe-inline' for styles only.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def docs_page() -> HTMLResponse:
    """The API's interactive documentation (Swagger UI), served entirely by this server."""
    return HTMLResponse(DOCS_PAGE, headers=DOCS_HEADERS)


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Builds the app; the store is built from settings unless a test hands one in."""
    settings = settings or Settings()
    quiet_noisy_loggers()
    app = FastAPI(
        title="Somos",
        summary="Reportes anónimos de amenazas y riesgos: bandeja de protección y agregados.",
        version="0.1.0",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store or build_store(settings)
    app.state.telegram = None
    app.state.metrics = create_metrics()
    install_clock(app)
    # One handler of HTTP exceptions for the whole app: a person's browser gets a page.
    install_problem_handlers(app, page_for=errors.http_error_page)
    document_problems(app)
    errors.install_page_errors(app)
    app.middleware("http")(with_page_headers)
    # It times the whole answer and sees every status.
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    # Added last, so outermost: everything sees the client a trusted proxy names (the
    # sign-in limits count by it); `somos serve` turns uvicorn's own copy of it off.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.get("/docs", include_in_schema=False)(docs_page)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(auth.router)
    app.include_router(reports.router)
    app.include_router(triage.router)
    app.include_router(grants.router)
    app.include_router(routing_rules.router)
    app.include_router(users.router)
    app.include_router(audit.router)
    app.include_router(me.router)
    app.include_router(aggregates.router)
    app.include_router(bulletins.router)
    app.include_router(alerts.router)
    app.include_router(telegram_webhook.router)
    for pages in (signin, queue, report, team, account, dashboard, bulletin, admin_users,
                  admin_rules, admin_lines, admin_audit):
        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
