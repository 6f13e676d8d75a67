"""Blu's wire constants and its conclusion dictionary: paths, limits, and what each result code means."""

from __future__ import annotations

import re

from dialhub.dispositions import CallStatus, CodeMeaning, Disposition, VendorCodeTable

VENDOR = "blu"
PATH_CREATE_TASK = "/rest/v1/createTask"
PATH_UPLOAD = "/rest/v1/uploadAndStartJob"
PATH_CANCEL = "/rest/v1/taskCancelPhoneCall"
PATH_RESULTS = "/rest/v1/queryCallResult"

SUCCESS = 2000
UPLOAD_LIMIT = 200  # records per uploadAndStartJob (S000)
PAGE_SIZE_LIMIT = 100  # results per queryCallResult page (ASSUMPTION)
MAX_PAGES = 10_000  # a safety stop for paging, far above any real task (10 000 pages x 100 results)
# Blu's wall-clock times, "yyyy-MM-dd HH:mm:ss" (strptime's reading of it, at a fraction of its cost per callback).
WALL_CLOCK = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})")

_A = CallStatus.ANSWERED
CODES = VendorCodeTable(
    VENDOR,
    {
        # Dictionary 1 (collections) and the query example.
        "PTP": CodeMeaning(Disposition.PROMISE_TO_PAY, _A),
        "HPTP": CodeMeaning(Disposition.PROMISE_TO_PAY_NO_DATE, _A),
        "AP": CodeMeaning(Disposition.ALREADY_PAID, _A),
        "NOST": CodeMeaning(Disposition.NO_AGREEMENT, _A),
        "NotOneself": CodeMeaning(Disposition.WRONG_PERSON, _A),
        "CPL": CodeMeaning(Disposition.COMPLAINT, _A),
        "unknown": CodeMeaning(Disposition.UNKNOWN, _A),
        "undefined": CodeMeaning(Disposition.UNKNOWN),
        "LMS": CodeMeaning(Disposition.VOICEMAIL, CallStatus.VOICEMAIL),
        "Busy": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.BUSY),
        # Dictionary 2 (contact / marketing).
        "Voicemail": CodeMeaning(Disposition.VOICEMAIL, CallStatus.VOICEMAIL),
        "Willing": CodeMeaning(Disposition.INTERESTED, _A),
        "Unwilling": CodeMeaning(Disposition.NOT_INTERESTED, _A),
        "Donotknow": CodeMeaning(Disposition.WRONG_PERSON, _A),
        "Whichcompany": CodeMeaning(Disposition.ASKED_WHO_CALLS, _A),
        "Complan": CodeMeaning(Disposition.DO_NOT_CALL, _A),
        "Undecided": CodeMeaning(Disposition.UNDECIDED, _A),
        "Unconnected": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.NO_ANSWER),
        "Taskcancel": CodeMeaning(Disposition.CANCELLED, CallStatus.CANCELLED),
        # Empty-number detection (line status).
        "D00": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.NO_ANSWER),
        "D01": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.BUSY),
        "D02": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.UNREACHABLE),
        "D03": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.INVALID_NUMBER),
        "D04": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.INVALID_NUMBER),
        "D05": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.NO_ANSWER),
        "D06": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.FAILED),
        "D07": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.INVALID_NUMBER),
        "D08": CodeMeaning(Disposition.VOICEMAIL, CallStatus.VOICEMAIL),
        "D09": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.NO_ANSWER),
        "D10": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.NO_ANSWER),
        "D90": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.FAILED),
        "D91": CodeMeaning(Disposition.NOT_CONNECTED, CallStatus.UNREACHABLE),
        "D99": CodeMeaning(Disposition.UNKNOWN, _A),
        "NAN": CodeMeaning(Disposition.UNKNOWN),
    },
)
