"""Nightly inventory sync from the warehouse system."""

from __future__ import annotations

import logging

from app.warehouse import WarehouseClient

log = logging.getLogger(__name__)


def sync_inventory(client: WarehouseClient, store) -> int:
    updated = 0
    for record in client.stock_levels():
        if store.set_stock(record.sku, record.quantity):
            updated += 1
    log.info("sync done %d", updated)
    return updated
