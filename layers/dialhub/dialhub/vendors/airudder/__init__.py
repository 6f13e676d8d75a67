"""AIRudder (api.airudder.com) robot outbound calls: one AIRudder task per submitted chunk.

Contract: docs/vendors/airudder.md. AIRudder creates a task together with its numbers, so
`create_task` only names the campaign's day (no HTTP) and every `submit` creates one AIRudder task whose
TaskName is derived from the submission key: a retried or redelivered chunk meets "duplicate task name"
(10508) instead of dialling anyone twice. What AIRudder's readable pages leave open is decided in this
package, once, and listed in the README's vendor section. `contract.py` asks a real account about every
assumption below (`python -m dialhub.contract_check airudder`), or says why it cannot.

- A1 ASSUMPTION: the global 10xxx error codes (JULO's PDS list) apply to the /service/cloud/* API; 10201
  (internal error) and 10705 (query count limit) are transient, 10812/10813 are token errors, and a task
  that is gone answers 10502, 10506, 10702 or 10703 (skipped while polling).
- A2 ASSUMPTION: success is `code` 200 (the cloud envelope); `code` 0 (other AIRudder product lines) is
  accepted as success too.
- A3 ASSUMPTION: TaskName uses only letters, digits and underscores (the PDS rule 10518 is the stricter one).
- A4 ASSUMPTION: `Type` for collection tasks is "collection" (only "promotion" is documented); per campaign
  option `type`.
- A5 ASSUMPTION: `Comments` (<= 64 characters) carries "<campaignId>|<contactId>" and is echoed back in
  `detail_error_list` (as `comments`), in the Webhook of Call and in /service/cloud/detail rows; a webhook
  needs the campaign too, because the adapter cannot look a task up.
- A6 ASSUMPTION: a `detail_error_list` entry names its number by `comments`, else by a phone it carries
  (both sides in E.164; a national one is read in the regions of the chunk's numbers), and only when it has
  neither by the index in `field` ("Details[i]"). Where that index counts from is not documented (the
  document's own answer example names Details[1] for its one-row request example, which only a count from
  1 explains), so an index doubts both rows it may mean (i counted from 0, i-1 counted from 1) instead of
  refusing one; an entry that names no number of the chunk doubts every number not refused; counts in the
  answer (SuccessCount/TotalCount, Success/Total) that disagree with the rows sent and refused doubt the
  numbers they cannot account for. Doubted numbers are unconfirmed: never sent again, settled by polling.
- A7 ASSUMPTION: ExtraA-C hold at most 255 characters, and no AIRudder text field (Customer, ExtraA-C) takes
  characters outside the Basic Multilingual Plane (emoji): both are refused before any HTTP.
- A8 ASSUMPTION: `GET /service/cloud/list?TaskName=<name>` lists the task of that name (rows with TaskID and
  TaskName, under `data`, `data.list` or similar), paged like A9; it is read only after a 10508. Then the
  chunk's numbers that the task's detail shows are accepted and the others are unconfirmed: the lost
  answer may have refused some, and AIRudder keeps no detail row for a number it refused (A9).
- A9 ASSUMPTION: `GET /service/cloud/detail?TaskID=<id>` lists one row per number the task holds (none for
  a number refused at creation), with the fields of the Webhook of Call, in pages asked with `PageNumber`
  (from 1) and `PageSize` (1,000). No paging is documented, so these names are ours (PascalCase, like every
  documented name) and nothing relies on them being honoured: pages are read until an empty one, one that
  brings no row not already read (the page number ignored), or the answer's `total` (never `count`, which
  may be a page's), at most 1,001 pages; a listing that disagrees with its total is logged and counted
  (VendorAnswerMismatch). Should AIRudder refuse the parameters themselves, the first page is asked again
  without them and read as the whole listing (counted too).
- A10 ASSUMPTION: a Webhook of Call / detail row is PascalCase: TaskID, CallID (of the last attempt), Mobile,
  Comments, CallStatus, Intention, CallTimes (attempts made), StartTime, AnswerTime, EndTime (account time
  zone, "YYYY-MM-DD hh:mm:ss"), Duration (seconds), RecordingURL, HangupReason; names are matched without
  regard to case or underscores. A call webhook comes once per number (after the redials, or on connect),
  so each one closes its contact and its CallID is the one the detail row shows. Its body is one record, a
  list of them, or an envelope (`data`, `list`, `records`...) whose TaskID the records lacking one take.
- A11 ASSUMPTION: a number never dialled (e.g. cancelled) may have no CallID; it is identified as
  "<TaskID>:<Comments>".
- A12 ASSUMPTION: cancelling one call is `POST /service/cloud/cancelphonecall {TaskID, Mobile}`; the task
  operations are `POST /service/cloud/operation {TaskID, Operation}` with "cancel", "pause" and "resume".
- A13 ASSUMPTION: `X-AIRudder-Sign` is the HMAC-SHA256 of the raw body keyed with APPSecret, hex (base64 also
  accepted); checked only when the account sets `verifySignature`.
- A14 ASSUMPTION: encrypted callbacks (account `encryptCallbacks`) are AES-CBC with PKCS7 padding, base64 text,
  either the whole body or the string under `data` of a JSON object; key and IV are the UTF-8 bytes of
  the account's `aesKey` (16/24/32) and `aesIv` (16).
- A15 ASSUMPTION: AIRudder's webhooks carry no credential of ours beyond the URL: callbacks are authenticated
  by a secret token in the callback URL (`?token=`) compared in constant time, plus an optional source-IP
  allowlist and the optional signature. Any HTTP 200 acknowledges; we answer {"status": "success"}.
- A16 ASSUMPTION: the call status and intention dictionaries (codes.py) are our guesses; an unknown value is
  kept raw, counted (UnknownVendorCode) and mapped to unknown.
- A17 ASSUMPTION: `POST /service/cloud/auth` with APPKey/APPSecret gives a token that every other request
  carries as `Authorization: Token <token>` for 24 hours; a wrong APPSecret gets no token, and a refused
  token answers HTTP 401, 10812 or 10813 (refreshed once, never in a loop).
- A18 ASSUMPTION: AIRudder sends a webhook again when it is answered with anything but HTTP 200 (its
  documented policy for the predictive-dialer webhooks: a minute apart, at most 5 tries; not documented
  for the Webhook of Call). So a call webhook with entries that carry no result (no CallID, nor TaskID and
  Comments) stores the others and reports those entries unread (answered 422); one none of whose entries
  carries a result is refused (400). Neither is acknowledged as if it had been stored.
"""

from __future__ import annotations

from dialhub.vendors.airudder.adapter import AirudderAdapter

ADAPTER = AirudderAdapter
