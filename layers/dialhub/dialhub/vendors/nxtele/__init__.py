"""NXTele / NXCLOUD Callbot API v3 (nxbot.nxcloud.com; the "NXLink Callbot").

Contract: docs/vendors/nxtele.md. What NXTele's public pages leave open is decided here, once, and
listed in the README's vendor section (each marked ASSUMPTION below; the constants named are in codes.py):

- ASSUMPTION: responses carry `requestID`, `uuid`, `createTs`, `sign` as HTTP headers, signed like requests
  over the raw (decompressed) response body. A success whose signature or echoed requestID does not match
  is treated as unavailable (nothing is believed from it); an unsigned answer is accepted; a refusal stays
  a refusal whatever its signature (so a wrong secretKey reads as retCode 6).
- ASSUMPTION: callbacks are signed with the same formula over the raw request body, with the account's
  algorithm (set the same one in the console and in the secret); each delivery is signed afresh, so a
  `createTs` more than `maxClockSkewSeconds` away from our clock is refused.
- ASSUMPTION: `createTask` answers a `userTaskID` it already holds with a non-zero retCode; we then look the
  task up with `listTask` and carry on when it exists (a retry after a lost answer).
- ASSUMPTION: `startupType` 3 = start immediately; `zoneSecond` = the campaign zone's UTC offset in seconds
  on the task's day; `dialAtWeekDay` = ISO weekdays as "1,2,3,4,5" (1 = Monday); `dialAtUpHour` and
  `dialAtDownHour` = "HH:MM" in that zone; `taskName` inside `taskCreateSetting` (as in createAndCall).
- ASSUMPTION: an `addBatchCall` errList entry whose errMsg says the order already exists (see
  EXISTING_ORDER_WORDS) is a retry of an order NXTele holds: that contact counts as accepted. Entries
  are matched to contacts by `orderID` when present, else by phone digits (in request order).
- ASSUMPTION: at most 500 contacts per `addBatchCall` (`chunkSize`), `listOrder` pages of at most 100,
  `listOrderDetail` chunks of at most 500 ids (documented); list rows under the keys in ORDER_ROW_KEYS.
- ASSUMPTION: NXTele's redial rounds are configured in its console strategy, out of our sight: a campaign
  states the most calls per order (`callsPerOrder`, default 3) and frequency caps count each order as that.
- ASSUMPTION: only the variables named in the campaign's `scriptVariables` are sent as `params` (as text);
  `userName` is the contact's name, `customerName` is "", `other` is our ids as compact JSON text.
- `userTaskID` and `orderID` are uuid5 hex of (campaign, account-local date) and (campaign, contact, attempt):
  every retry sends the same ids, so neither a task nor an order can be created twice.
- ASSUMPTION: `callStatus` has no published dictionary: kept raw as vendorStatus. A call is answered when
  `callAnswerTs > 0` and `callDuration > 0`; an unanswered call is refined by `termSipCode` (a SIP status)
  or `hangupCause` (a Q.850 / FreeSWITCH cause name) through LINE_STATUS_BY_SIP / LINE_STATUS_BY_CAUSE,
  else no_answer.
- ASSUMPTION: the disposition of an answered call comes from its intents: the first intent whose
  `intentTag` (then `intentName`) is in the intent table (DEFAULT_INTENTS + the account's `intentMap`);
  an unanswered call is `not_connected`; a voicemail disposition makes the status voicemail.
- ASSUMPTION: every timestamp is epoch seconds (values above 10^11 are read as milliseconds).
- ASSUMPTION: `callInfoDetailList` holds an order's calls; the latest `callStartTs` is the last call. Every
  call is an attempt except the last call of a finished order, which closes the contact.
- ASSUMPTION: retCodes 5, 5001, 7 (maintenance, internal error, busy) and 1001 (import in progress) are
  temporary: retried briefly, then reported as unavailable; every other non-zero retCode is a refusal.
- ASSUMPTION: a stopped order (`stopOrder`, delCall 0) produces no call and no closing outcome; an errList
  entry for it means it is too late. Cancelling a campaign completes its task with delCall 1 (undialled
  orders deleted). The task callback carries no call outcome and is only acknowledged.
- Callbacks answer HTTP 200 `{"retCode": 0, "retMsg": "success"}` (NXTele's envelope; the ack is not
  documented) and are deduplicated on `callID` by the store.
"""

from dialhub.vendors.nxtele.adapter import NxteleAdapter

ADAPTER = NxteleAdapter
