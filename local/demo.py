"""`make demo`: the whole flow offline, from an HTTP campaign to a table of outcomes."""

from __future__ import annotations

import sys
import time
from collections import Counter

from local.scenario import ScenarioResult, run_scenario
from local.stack import LocalStack


def _table(title: str, counts: Counter[str]) -> str:
    width = max([len(title), *(len(key) for key in counts)]) + 2
    lines = [f"  {title:<{width}}{'calls':>6}", f"  {'-' * (width + 6)}"]
    lines += [f"  {key:<{width}}{value:>6}" for key, value in counts.most_common()]
    return "\n".join(lines)


def report(result: ScenarioResult) -> tuple[str, bool]:
    final = result.contact_states.get("final", 0)
    cancelled = result.contact_states.get("cancelled", 0)
    total = sum(result.contact_states.values())
    once = result.every_contact_settled_once
    ok = final + cancelled == total and once and result.recovered_by_polling > 0
    text = "\n".join([
        "",
        _table("status", result.by_status),
        "",
        _table("disposition", result.by_disposition),
        "",
        f"  contacts: {total}   final: {final}   cancelled before dialling: {cancelled}   "
        f"dialled once with exactly one outcome each: {'yes' if once else 'NO'}",
        f"  outcomes by source: {dict(result.by_source)}   recovered by polling: {result.recovered_by_polling}",
        f"  wall time: {result.seconds:.1f} s",
    ])
    return text, ok


def main() -> int:
    started = time.monotonic()
    print("dialhub demo: starting moto (DynamoDB, SQS, Secrets Manager), the Blu simulator and the gateway")
    with LocalStack() as stack:
        print(f"dialhub API: {stack.url}")
        result = run_scenario(stack, progress=print)
    text, ok = report(result)
    print(text)
    print(f"demo {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
