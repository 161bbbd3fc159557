"""Payment providers' webhooks: no token, the provider's signature is the authentication. A forged call is
refused before anything is read; a repeated or late one answers 200 with the top-up's state and changes
nothing, so a provider that retries gets its confirmation acknowledged."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from tapzone.api.deps import Uow
from tapzone.api.routers.portal import Keys
from tapzone.errors import InvalidRequest
from tapzone.payments.online import provider_named
from tapzone.portal.topups import OnlineTopupView, confirm_online_payment

router = APIRouter(prefix="/payment-providers", tags=["online payments"])

MAX_WEBHOOK_BYTES = 64 * 1024


@router.post("/{provider}/webhooks")
async def post_webhook(provider: str, request: Request, uow: Uow, keys: Keys) -> OnlineTopupView:
    """A provider confirms (or fails) a payment. The raw body is what the signature covers."""
    online = provider_named(keys.providers, provider)
    payload = await request.body()
    if len(payload) > MAX_WEBHOOK_BYTES:
        raise InvalidRequest("webhook payload too large")
    signature = request.headers.get(online.signature_header, "")
    return await run_in_threadpool(confirm_online_payment, uow, online, payload, signature)
