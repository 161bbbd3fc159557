"""Permissions and the roles a new venue starts with. Staff act through a till; each use case names the
permission it needs and the check happens inside its transaction."""

from __future__ import annotations

from enum import StrEnum

from tapzone.venues.model import GATE_KINDS, DeviceKind


class Permission(StrEnum):
    MEDIUM_ISSUE = "medium.issue"
    MEDIUM_RETURN = "medium.return"
    MEDIUM_BLOCK = "medium.block"
    MEDIUM_MANUAL_ENTRY = "medium.manual_entry"
    MEDIUM_TRANSFER = "medium.transfer"
    TOPUP = "balance.topup"
    TAB_SAVE = "tab.save"
    TAB_BILL = "tab.bill"
    TAB_CANCEL = "tab.cancel"
    TAB_SETTLE = "tab.settle"
    SALE = "sale.create"
    PREPAID_REFUND = "prepaid.refund"
    BALANCE_CORRECT = "balance.correct"
    VENUE_CONFIGURE = "venue.configure"
    REPORT_VIEW = "report.view"
    ACCESS_VIEW = "access.view"  # the entry view: gate events, failed exits with their tabs (seed 001)
    ACCOUNT_SELL = "account.sell"  # sell an account type onto a medium (seed 002)
    RESOURCE_START = "resource.start"  # switch on a sunbed or other service from the counter (seed 002)
    CUSTOMER_MANAGE = "customer.manage"  # price group, skin type, contract data of a customer
    ACCOUNT_TRANSFER = "account.transfer"  # hand a card account to another venue of the chain (seed 002)
    SHIFT_MANAGE = "shift.manage"  # open and close one's shift at a till with the cash drawer
    CASH_MOVE = "cash.move"  # put cash into or take it out of a drawer during a shift
    Z_REPORT = "report.z"  # close a till's business day with its numbered Z report
    PAYOUT_MANAGE = "payout.manage"  # pay leftover value out by bank transfer, export and revoke batches
    TAB_WRITE_OFF = "tab.write_off"  # seed 001 exceptions: write off a tab of a visitor who left unpaid


_CASHIER = frozenset(
    {
        Permission.MEDIUM_ISSUE,
        Permission.MEDIUM_RETURN,
        Permission.TOPUP,
        Permission.TAB_SAVE,
        Permission.TAB_BILL,
        Permission.TAB_SETTLE,
        Permission.SALE,
        Permission.PREPAID_REFUND,
        Permission.ACCESS_VIEW,
        Permission.ACCOUNT_SELL,
        Permission.RESOURCE_START,
        Permission.CUSTOMER_MANAGE,
        Permission.SHIFT_MANAGE,
    }
)
_MANAGER = _CASHIER | {
    Permission.TAB_CANCEL,
    Permission.MEDIUM_BLOCK,
    Permission.MEDIUM_MANUAL_ENTRY,
    Permission.MEDIUM_TRANSFER,
    Permission.REPORT_VIEW,
    Permission.ACCOUNT_TRANSFER,
    Permission.CASH_MOVE,
    Permission.Z_REPORT,
    Permission.PAYOUT_MANAGE,
    Permission.TAB_WRITE_OFF,
}
_SUPPORT = frozenset(
    {
        Permission.BALANCE_CORRECT,
        Permission.MEDIUM_MANUAL_ENTRY,
        Permission.MEDIUM_TRANSFER,
        Permission.MEDIUM_BLOCK,
        Permission.REPORT_VIEW,
    }
)

DEFAULT_ROLES: dict[str, frozenset[Permission]] = {
    "cashier": _CASHIER,
    "gate": frozenset({Permission.MEDIUM_BLOCK, Permission.ACCESS_VIEW}),
    "manager": _MANAGER,
    "support": _SUPPORT,
    "admin": frozenset(Permission),
}


# Where staff may use a permission. A till may do everything its staff member may; at a gate (an attendant,
# a phone acting as validator) only the entry view and blocking a card — a gate's token with an administrator
# signed in still cannot sell, top up, settle or read tabs. Kiosks, resources, readers, the portal and the
# venue's own jobs act unattended through their own use cases and never on behalf of staff.
STAFF_DEVICE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    DeviceKind.TILL.value: frozenset(Permission),
    **{kind.value: frozenset({Permission.ACCESS_VIEW, Permission.MEDIUM_BLOCK}) for kind in GATE_KINDS},
}


def usable_from(device_kind: str, permission: Permission | str) -> bool:
    return permission in STAFF_DEVICE_PERMISSIONS.get(device_kind, frozenset())
