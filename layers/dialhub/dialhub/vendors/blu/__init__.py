"""Blu V2.0 (shanghu.ai) outbound callbot.

Contract: docs/vendors/blu.md. What Blu's public pages leave open is decided here,
once, and listed in the README's vendor section (each marked ASSUMPTION below):

- ASSUMPTION: API base URL `https://bluapi.shanghu.ai` (host seen in recording links); per account setting.
- ASSUMPTION: the create-task endpoint is `POST /rest/v1/createTask` with `taskName`, `botId`, optional
  `strategyId`, answering `{code: 2000, taskId}` (the page was not published).
- ASSUMPTION: a record `id` is unique within a task and Blu ignores an id it already has, so re-sending the
  same records after a timeout or a crash dials nobody twice. Our record id is derived from
  (campaign, contact, attempt), so every retry sends the same ids.
- ASSUMPTION: `mobile` is the national number, digits only (the published example is national: 0177...).
- ASSUMPTION: a task's "day" and the result times (`startTime` ...) are in the account's time zone.
- ASSUMPTION: the dial-result callback carries one object shaped like a `queryCallResult.data[]` item; the
  documented placeholder (`taskId` + `records[]`), a `data` wrapper and a bare list are accepted too.
- ASSUMPTION: `orderId` of `taskCancelPhoneCall` is the record id (we also put it in `extVars.orderId`).
- ASSUMPTION: pre-dial verification posts the record's `extVars` (configured at Blu as the customised
  parameters); `code 0` = do not dial, `code 1` = dial.
- ASSUMPTION: `Busy` is a busy line (it sits beside the D01 busy tone in both dictionaries); the integer
  `status` has no published dictionary and is only kept raw.
- ASSUMPTION: `queryCallResult` accepts `pageSize` up to 100; we page until a short page.
- Blu signs nothing it sends us: callbacks are authenticated by a secret token in the callback URL
  (`?token=`) compared in constant time, plus an optional source-IP allowlist.
"""

from dialhub.vendors.blu.adapter import BluAdapter

ADAPTER = BluAdapter
