"""`tapzone portal …`: play the simulated online payment provider from the shell.

The simulator's payment page does not exist (its `redirect_url` points to a `.invalid` host), so a demo or a
manual test confirms a pending online top-up here instead: the command signs the confirmation the way the
provider would and hands it to the same use case as the webhook. Whoever runs it holds the database and the
portal secret already, so it asks for no sign-in.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from tapzone.errors import TapzoneError
from tapzone.store.db import make_engine

portal_app = typer.Typer(help="Customer portal: drive the simulated online payment provider.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="TAPZONE_DATABASE_URL", help="SQLAlchemy URL; default ./var/tapzone.db"),
]


@portal_app.command("simulate-payment")
def simulate_payment(
    provider_reference: Annotated[str, typer.Argument(help="the top-up's provider_reference (sim_…)")],
    status: Annotated[str, typer.Option(help="paid or failed")] = "paid",
    amount_minor: Annotated[int | None, typer.Option(help="amount paid; default: the amount ordered")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Confirm (or fail) a pending online top-up as the simulated provider's webhook would."""
    import sqlalchemy as sa

    from tapzone.payments.online import SIMULATOR, ProviderStatus, SimulatorProvider, provider_secret
    from tapzone.portal.keys import server_secret
    from tapzone.portal.topups import confirm_online_payment
    from tapzone.store.tables import online_topups
    from tapzone.store.uow import UnitOfWork

    uow = UnitOfWork(make_engine(database_url))
    with uow.engine.connect() as conn:
        ordered = conn.execute(
            sa.select(online_topups.c.amount_minor, online_topups.c.currency).where(
                online_topups.c.provider == SIMULATOR, online_topups.c.provider_reference == provider_reference
            )
        ).first()
    if ordered is None:
        err_console.print(f"[red]no simulator top-up with reference {escape(provider_reference)}[/red]")
        raise typer.Exit(1)
    try:
        outcome = ProviderStatus(status)
        provider = SimulatorProvider(provider_secret(server_secret(), SIMULATOR))
        paid = ordered.amount_minor if amount_minor is None else amount_minor
        payload, signature = provider.signed_confirmation(provider_reference, paid, ordered.currency, outcome)
        view = confirm_online_payment(uow, provider, payload, signature)
    except (TapzoneError, ValueError) as error:
        err_console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from error
    detail = f" ({view.detail})" if view.detail else ""
    console.print(f"online top-up {view.online_top_up_id}: {view.state}{escape(detail)}")
