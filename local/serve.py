"""`make serve`: the offline stack left running, with the dispatch and export queues, the table's stream and the
poller kept busy; the events published on the bus are printed as they come, and so are the template's alarms
when they would fire and when they clear (local/alarms.py: evaluated on what the stack measures).

Locally the IAM-protected routes are served without SigV4 (there is no IAM here); in AWS they need it. The
local S3 speaks TLS with a certificate made at start-up (the export bucket refuses plain HTTP, as in AWS):
download and upload links need it trusted, `curl --cacert <the printed path>` (`-T file` to upload; the upload
reaches the import queue, and the importer, as S3 -> EventBridge -> SQS would deliver it).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlsplit

from local.stack import LocalStack
from local.tls import certificate_published

# The deployed schedules poll every 10 minutes and re-plan running campaigns every 30; locally time is compressed.
POLL_EVERY_SECONDS = 15.0
ALARMS_EVERY_SECONDS = 5.0


def alarm_changes(firing: dict[str, str], was: set[str]) -> list[str]:
    """Lines for the alarms that started or stopped firing (`firing`: name -> what it means)."""
    started = [f"  ALARM {name}: {firing[name]} (runbook: docs/operations.md)" for name in sorted(set(firing) - was)]
    return started + [f"  OK    {name}: cleared" for name in sorted(was - set(firing))]


def main() -> None:
    port = int(os.environ.get("PORT", "3000"))
    stop = threading.Event()
    with LocalStack(port=port, log_level=os.environ.get("LOG_LEVEL", "WARNING")) as stack:
        for driver in stack.sqs_drivers.values():
            driver.run_in_background(0.5)
        for reader in stack.stream_drivers.values():
            reader.run_in_background(0.5)

        def poll_forever() -> None:
            while not stop.wait(POLL_EVERY_SECONDS):
                stack.fire("ResultPolling")
                stack.fire("HeldContactReplanning")

        def show_events() -> None:
            seen = 0
            while not stop.wait(2.0):
                events = stack.events()
                new, seen = events[seen:], len(events)
                if new:
                    kinds = Counter(event["detail-type"] for event in new)
                    print(
                        f"  events: {', '.join(f'{kind} {count}' for kind, count in sorted(kinds.items()))}", flush=True
                    )

        def watch_alarms() -> None:
            was: set[str] = set()
            while not stop.wait(ALARMS_EVERY_SECONDS):
                firing = {name: alarm.summary for name, alarm in stack.alarms.evaluate().firing.items()}
                for line in alarm_changes(firing, was):
                    print(line, flush=True)
                was = set(firing)

        threading.Thread(target=poll_forever, name="poller", daemon=True).start()
        threading.Thread(target=watch_alarms, name="alarms", daemon=True).start()
        threading.Thread(target=show_events, name="events", daemon=True).start()
        print(f"dialhub API: {stack.url}", flush=True)
        print("  the daily schedule does not fire by itself here: POST /campaigns/{id}/dispatch sends a campaign now")
        print(f'  export download links are served over TLS: curl --cacert {stack.ca_bundle} "<url>"')
        print(f'  contact file upload links likewise: curl --cacert {stack.ca_bundle} -T contacts.csv "<uploadUrl>"')
        print(f"  the dialhub command line finds that certificate by itself: .venv/bin/dialhub --url {stack.url} …")
        for vendor, simulator in stack.simulators.items():
            print(f"  {vendor} simulator: {simulator.base_url}   callbacks -> {stack.url}/webhooks/{vendor}/...")
        watched = len(stack.alarms.alarms)
        print(f"  alarms: {watched} of the template's evaluated here, printed when they fire and clear", flush=True)
        print("  Ctrl-C to stop", flush=True)
        try:
            api_port = urlsplit(stack.url).port or port
            with certificate_published(Path(stack.ca_bundle), api_port) if stack.ca_bundle else nullcontext():
                stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()


if __name__ == "__main__":
    main()
