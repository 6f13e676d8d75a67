"""The only code that touches DynamoDB: one table, keys and indexes as template.yaml declares them.

Items (pk / sk):
  CAMPAIGN#<id> / CAMPAIGN                 campaign; in gsi1 as DUE / <dialDate>#<id> while it has queued contacts;
                                           in gsi2 as CAMPAIGNS / <createdAt>#<id> (the listing, newest first)
  CAMPAIGN#<id> / CONTACT#<contactId>      contact and its dial state; in gsi1 as QUEUE#<id> while queued
  CAMPAIGN#<id> / TASK#<vendor>#<date>     vendor task; in gsi1 as OPENTASK / <vendor>#<date>#<id> while open
  CALL#<vendor>#<vendorCallId> / CALL      one call outcome; in gsi2 as CONTACT#<campaign>#<contact> (history);
                                           once it closes its contact, in gsi3 as FEED / <recordedAt>#<vendor>#<id>
  CALL#<vendor>#<vendorCallId> / RAW#<at>  the vendor's payload that stored it (expires sooner than the outcome)
  SUPPRESSION#<e164> / SUPPRESSION         a number not to be called; expiresAt = its end, when it has one
  POLICY#<name> / POLICY                   a compliance policy (presets live in code and are not stored)
  PHONE#<e164> / DIAL#<at>#<campaign>#<contact>#<attempt>
                                           a request sent to a vendor for that number, counted as `calls`
  EXPORT#<exportId> / EXPORT               an export of a campaign's results and how far it has got
  IMPORT#<importId> / IMPORT               a contact file's import and how far it has got
  CAMPAIGN#<id> / COUNTERS                 the campaign's live counts, kept from the stream (counters.py)
  VENDOR#<vendor> / CIRCUIT                submissions to the vendor failed in a row, and until when it is
                                           treated as down (circuits.py)
  VENDOR#<vendor> / TAKEN#<localDate>      requests planned for the vendor that account-local day, against
                                           the daily cap of its secret (circuits.py)

State moves are conditional writes, so a redelivered message, a retried callback or a racing poll can only
move a contact or an outcome forward, never back.

The items are read and written by one mixin per group (campaigns.py, counters.py, outcomes.py, compliance.py,
tasks.py, exports.py, imports.py, circuits.py) over the shared request shapes of table.py; keys.py says where
each item lives and codec.py how its values are held. Callers import from this package only, and type what they
are given as `Store`.
"""

from __future__ import annotations

from dialhub.store.campaigns import CampaignTable
from dialhub.store.circuits import Circuit, CircuitTable
from dialhub.store.compliance import ComplianceTable, DialRecord
from dialhub.store.counters import Counters, CounterTable
from dialhub.store.counting import CampaignCounts
from dialhub.store.exports import ExportTable
from dialhub.store.imports import ImportTable
from dialhub.store.outcomes import FeedPage, OutcomeTable, RecordResult, RedialRequest
from dialhub.store.protocol import Store
from dialhub.store.table import Page, utc_now
from dialhub.store.tasks import TaskTable

__all__ = [
    "CampaignCounts",
    "Circuit",
    "Counters",
    "DialRecord",
    "DynamoStore",
    "FeedPage",
    "Page",
    "RecordResult",
    "RedialRequest",
    "Store",
    "utc_now",
]


class DynamoStore(
    CampaignTable, CounterTable, OutcomeTable, ComplianceTable, TaskTable, ExportTable, ImportTable, CircuitTable
):
    """The store on the DynamoDB table: every group's operations over one client."""
