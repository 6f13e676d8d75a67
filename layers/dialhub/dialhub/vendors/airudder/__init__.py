"""AIRudder (api.airudder.com) robot outbound calls: one AIRudder task per submitted chunk.

Contract: docs/vendors/airudder.md. AIRudder creates a task together with its numbers, so
`create_task` only names the campaign's day (no HTTP) and every `submit` creates one AIRudder task whose
TaskName is derived from the submission key: a retried or redelivered chunk meets "duplicate task name"
(10508) instead of dialling anyone twice. What AIRudder's readable pages leave open is decided in this
package, once, and listed in the README's vendor section:

- ASSUMPTION: the global 10xxx error codes (JULO's PDS list) apply to the /service/cloud/* API; 10201
  (internal error) and 10705 (query count limit) are transient, 10812/10813 are token errors.
- ASSUMPTION: success is `code` 200 (the cloud envelope); `code` 0 (other AIRudder product lines) is
  accepted as success too.
- ASSUMPTION: TaskName uses only letters, digits and underscores (the PDS rule 10518 is the stricter one).
- ASSUMPTION: `Type` for collection tasks is "collection" (only "promotion" is documented); per campaign
  option `type`.
- ASSUMPTION: `Comments` (<= 64 characters) carries "<campaignId>|<contactId>" and is echoed back in
  `detail_error_list`, in the Webhook of Call and in /service/cloud/detail rows; a webhook needs the
  campaign too, because the adapter cannot look a task up.
- ASSUMPTION: `detail_error_list[].field` is "Details[i]" with a 0-based index; `comments` is preferred
  when it names one of the chunk's numbers.
- ASSUMPTION: ExtraA-C hold at most 255 characters, and no AIRudder text field (Customer, ExtraA-C) takes
  characters outside the Basic Multilingual Plane (emoji): both are refused before any HTTP.
- ASSUMPTION: `GET /service/cloud/list?TaskName=<name>` lists the task of that name (rows with TaskID and
  TaskName, under `data`, `data.list` or similar); it is read only after a 10508.
- ASSUMPTION: `GET /service/cloud/detail?TaskID=<id>` returns every number of the task at once (no paging),
  one row per number, with the fields of the Webhook of Call.
- ASSUMPTION: a Webhook of Call / detail row is PascalCase: TaskID, CallID (of the last attempt), Mobile,
  Comments, CallStatus, Intention, CallTimes (attempts made), StartTime, AnswerTime, EndTime (account time
  zone, "YYYY-MM-DD hh:mm:ss"), Duration (seconds), RecordingURL, HangupReason; names are matched without
  regard to case or underscores and the status/intention dictionaries (codes.py) are our guesses. A call
  webhook comes once per number (after the redials, or on connect), so each one closes its contact and
  its CallID is the one the detail row shows.
- ASSUMPTION: a number never dialled (e.g. cancelled) may have no CallID; it is identified as
  "<TaskID>:<Comments>".
- ASSUMPTION: cancelling one call is `POST /service/cloud/cancelphonecall {TaskID, Mobile}`; the task
  operations are `POST /service/cloud/operation {TaskID, Operation}` with "cancel", "pause" and "resume".
- ASSUMPTION: `X-AIRudder-Sign` is the HMAC-SHA256 of the raw body keyed with APPSecret, hex (base64 also
  accepted); checked only when the account sets `verifySignature`.
- ASSUMPTION: encrypted callbacks (account `encryptCallbacks`) are AES-CBC with PKCS7 padding, base64 text,
  either the whole body or the string under `data` of a JSON object; key and IV are the UTF-8 bytes of
  the account's `aesKey` (16/24/32) and `aesIv` (16).
- ASSUMPTION: AIRudder's webhooks carry no credential of ours beyond the URL: callbacks are authenticated
  by a secret token in the callback URL (`?token=`) compared in constant time, plus an optional source-IP
  allowlist and the optional signature. Any HTTP 200 acknowledges; we answer {"status": "success"}.
"""

from __future__ import annotations

from dialhub.vendors.airudder.adapter import AirudderAdapter

ADAPTER = AirudderAdapter
