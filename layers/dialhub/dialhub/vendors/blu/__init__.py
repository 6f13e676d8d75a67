"""Blu V2.0 (shanghu.ai) outbound callbot.

Contract: docs/vendors/blu.md. What Blu's public pages leave open is decided here, once, and listed in the
README's vendor section. Each ASSUMPTION has a stable id: docs/vendors/blu.md's table and the contract
check (`contract.py`, `python -m dialhub.contract_check blu`) use the same ones.

- A1 ASSUMPTION: API base URL `https://bluapi.shanghu.ai` (host seen in recording links); per account setting.
- A2 ASSUMPTION: the create-task endpoint is `POST /rest/v1/createTask` with `taskName`, `botId`, optional
  `strategyId`, answering `{code: 2000, taskId}` (the page was not published).
- A3 ASSUMPTION: a record `id` is unique within a task and Blu ignores an id it already has, so re-sending
  the same records after a timeout or a crash dials nobody twice. Our record id is derived from
  (campaign, contact, attempt), so every retry sends the same ids.
- A4 ASSUMPTION: `mobile` is the national number, digits only (the published example is national: 0177...).
- A5 ASSUMPTION: a task's "day" and the result times (`startTime` ...) are in the account's time zone.
- A6 ASSUMPTION: the dial-result callback carries one object shaped like a `queryCallResult.data[]` row; a
  bare list, a `data` wrapper and the documented shape (`taskId` + `records[]`) are read too, and an
  envelope's `taskId` is carried onto the rows that have none. Blu looks only at the HTTP status and
  sends a callback again (every 5 minutes, 5 times) unless it is answered 200, so an entry that carries
  no `callId` is not acknowledged as if stored: it is counted in `OutcomeReport.unread`, the webhook
  stores the rest and answers 422, and Blu retries; the poller finds the call in any case.
- A7 ASSUMPTION: Blu signs nothing it sends us: callbacks are authenticated by a secret token in the
  callback URL (`?token=`) compared in constant time, plus an optional source-IP allowlist.
- A8 ASSUMPTION: `orderId` of `taskCancelPhoneCall` is the record id (we also put it in `extVars.orderId`).
- A9 ASSUMPTION: pre-dial verification posts the record's `extVars` (configured at Blu as the customised
  parameters); `code 0` = do not dial, `code 1` = dial.
- A10 ASSUMPTION: `Busy` is a busy line (it sits beside the D01 busy tone in both dictionaries).
- A11 ASSUMPTION: the integer `status` has no published dictionary and is only kept raw.
- A12 ASSUMPTION: a promised-payment slot comes as `slots.paymentTime`, two account-local times.
- A13 ASSUMPTION, no longer relied on: `queryCallResult` serves the `pageSize` asked, up to 100. Results
  are read until an empty page (Blu gives no total, and `count` is the rows on that page); a first page
  shorter than asked sets the size of the rest; a page that brings no call not already read (Blu ignoring
  `pageNo`), or MAX_PAGES, ends the reading and is counted as VendorAnswerMismatch.
- A14 ASSUMPTION: `sign` is lowercase hex (the formula is documented, the case is not).
- A15 ASSUMPTION: Blu refuses a request whose `sign` is wrong, so the appId alone cannot act on the account.
- A16 ASSUMPTION: the upload's `count` is the number of its records Blu took (new ones, under A3). Blu
  never says which, so only `count` equal to the records sent makes them accepted. A lower count, or none
  that reads as a number, leaves every record of that upload unconfirmed (the poller settles each from
  Blu's results; a resend of records Blu already holds lands here too). A higher count is accepted and
  recorded as a mismatch.
- A17 ASSUMPTION: every result row (queried or called back) carries `callId` and echoes the record's
  `extVars` as uploaded, which is how a result finds its contact.
"""

from dialhub.vendors.blu.adapter import BluAdapter

ADAPTER = BluAdapter
