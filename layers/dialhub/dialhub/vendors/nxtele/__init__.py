"""NXTele / NXCLOUD Callbot API v3 (nxbot.nxcloud.com; the "NXLink Callbot").

Contract: docs/vendors/nxtele.md. What NXTele's public pages leave open is decided here, once, and
listed in the README's vendor section (each ASSUMPTION has a stable id; the constants named are in
codes.py). `python -m dialhub.contract_check nxtele` puts each one to a real account where that is safe
(contract.py) and says which could not be tested, and why.

- A1 ASSUMPTION: responses carry `requestID`, `uuid`, `createTs`, `sign` as HTTP headers, signed like
  requests over the raw (decompressed) response body. A success whose signature or echoed requestID does
  not match is treated as unavailable (nothing is believed from it); an unsigned answer is accepted; a
  refusal stays a refusal whatever its signature (so a wrong secretKey reads as retCode 6).
- A2 ASSUMPTION: callbacks are signed with the same formula over the raw request body, with the account's
  algorithm (set the same one in the console and in the secret); each delivery is signed afresh, so a
  `createTs` more than `maxClockSkewSeconds` away from our clock is refused.
- A3 ASSUMPTION: `createTask` answers a `userTaskID` it already holds with a non-zero retCode; we then look
  the task up with `listTask` and carry on when it exists (a retry after a lost answer).
- A4 ASSUMPTION: `startupType` 3 = start immediately; `zoneSecond` = the campaign zone's UTC offset in
  seconds on the task's day; `dialAtWeekDay` = ISO weekdays as "1,2,3,4,5" (1 = Monday); `dialAtUpHour`
  and `dialAtDownHour` = "HH:MM" in that zone; `taskName` inside `taskCreateSetting` (as in createAndCall).
- A5 ASSUMPTION: an `addBatchCall` errList entry whose errMsg says the order already exists (see
  EXISTING_ORDER_WORDS) is a retry of an order NXTele holds: that contact counts as accepted.
- A6 ASSUMPTION: an errList entry names its contact by our `orderID`, or by the phone as we sent it (the
  documented entry is `{phone, errMsg}`). Entries are matched by `orderID` first, else by the phone read
  as E.164 on both sides (with or without '+', after 00, or national, "0917…", in the country of a number
  sent). An entry that could mean several contacts not yet matched leaves those contacts unconfirmed
  (which one it means would be a guess); an entry that means none leaves every contact the answer does
  not name unconfirmed. A contact an entry clearly refuses stays refused.
- A7 ASSUMPTION: at most 500 contacts per `addBatchCall` (`chunkSize`), `listOrderDetail` chunks of at
  most 500 ids (documented); `listOrder` is asked for pages of 100 (ORDER_PAGE_SIZE), but a shorter page
  is not taken as the end (see A21); list rows under the keys in ORDER_ROW_KEYS.
- A8 ASSUMPTION: NXTele's redial rounds are configured in its console strategy, out of our sight: a
  campaign states the most calls per order (`callsPerOrder`, default 3) and frequency caps count each
  order as that.
- A9 ASSUMPTION: only the variables named in the campaign's `scriptVariables` are sent as `params` (as
  text); `userName` is the contact's name, `customerName` is "", `other` is our ids as compact JSON text,
  echoed back verbatim.
- A10 ASSUMPTION: `callStatus` has no published dictionary: kept raw as vendorStatus. A call is answered
  when `callAnswerTs > 0` and `callDuration > 0`; an unanswered call is refined by `termSipCode` (a SIP
  status) or `hangupCause` (a Q.850 / FreeSWITCH cause name) through LINE_STATUS_BY_SIP /
  LINE_STATUS_BY_CAUSE, else no_answer.
- A11 ASSUMPTION: the disposition of an answered call comes from its intents: the first intent whose
  `intentTag` (then `intentName`) is in the intent table (DEFAULT_INTENTS + the account's `intentMap`);
  an unanswered call is `not_connected`; a voicemail disposition makes the status voicemail.
- A12 ASSUMPTION: every timestamp is epoch seconds (values above 10^11 are read as milliseconds).
- A13 ASSUMPTION: `callInfoDetailList` holds an order's calls, each with a `callID`; the latest
  `callStartTs` is the last call. Every call is an attempt except the last call of a finished order,
  which closes the contact.
- A14 ASSUMPTION: retCodes 5, 5001, 7 (maintenance, internal error, busy) and 1001 (import in progress)
  are temporary: retried briefly, then reported as unavailable; every other non-zero retCode is a refusal.
- A15 ASSUMPTION: a stopped order (`stopOrder`, delCall 0) produces no call and no closing outcome; an
  errList entry naming the order means it is too late. Cancelling a campaign completes its task with
  delCall 1 (undialled orders deleted).
- A16 ASSUMPTION: callbacks are answered HTTP 200 `{"retCode": 0, "retMsg": "success"}` (NXTele's
  envelope; the ack is not documented) and deduplicated on `callID` by the store. NXTele publishes no
  retry policy, so nothing relies on a retry: a callback that cannot be read (a call without its
  `callID`, a call callback without its call) is answered 400 with nothing stored, `OutcomeReport.unread`
  is never set (one order per body, so nothing is half stored), and polling finds the result.
- A17 ASSUMPTION: the task callback carries no call outcome and is only acknowledged. Order and call
  callbacks carry `userTaskID` on the order itself: there is no envelope to carry onto the call.
- A18 ASSUMPTION: requests are signed as documented (`secretKey&body=…&createTs=…&requestID=…&uuid=…`,
  upper-case hex) over the exact bytes sent, serialised once as `json.dumps` does by default.
- A19 ASSUMPTION: a request whose signature does not verify is refused with retCode 6 (reported as
  "wrong signature (check uuid, secretKey and algorithm)").
- A20 ASSUMPTION: `addBatchCall` answers `totalCount` = the entries sent and `successCount` = the entries
  taken, and lists in errList every entry it did not take (a repeated order is listed; counted as taken
  or not). Where the counts disagree with what was sent minus the listed entries, the contacts the answer
  does not account for are unconfirmed, not accepted; where NXTele counts as taken more than it did not
  list, the contacts it listed as refused are unconfirmed too (they may be dialled). A missing or
  unreadable `successCount` confirms nobody.
- A21 ASSUMPTION: `listOrder` answers the task's order count as `total` (or `totalCount`) and honours
  `page`. Paging reads until an empty page or `total` rows, whichever comes first; a page of orders already
  read (the page number ignored), MAX_PAGES pages, or a listing that ends short of or beyond its total
  end it, and are logged and counted as `VendorAnswerMismatch`.
- `userTaskID` and `orderID` are uuid5 hex of (campaign, account-local date) and (campaign, contact,
  attempt): every retry sends the same ids, so neither a task nor an order can be created twice.
"""

from dialhub.vendors.nxtele.adapter import NxteleAdapter

ADAPTER = NxteleAdapter
