"""The local stack's faster moto answers every store operation exactly as moto itself does."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from moto import mock_aws

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, Campaign, Contact, DialState, Suppression, VendorTask
from dialhub.store import DialRecord, DynamoStore, RedialRequest
from local import moto_patches
from local.resources import create_table_kwargs
from local.template import SamTemplate

T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def _outcome(call_id: str, contact_id: str, status: CallStatus, **changes: Any) -> CallOutcome:
    return CallOutcome(
        vendor="blu",
        vendor_call_id=call_id,
        campaign_id="cmp",
        contact_id=contact_id,
        status=status,
        disposition=changes.pop("disposition", Disposition.UNKNOWN),
        started_at=T0,
        duration_seconds=12,
        variables={"slots": {"amount": 1500.5, "note": None}},
        **changes,
    )


def _story(store: DynamoStore) -> Iterator[Any]:
    """Every kind of request the store sends, each answer yielded so two runs can be compared."""
    campaign = Campaign(
        campaign_id="cmp", name="n", vendor="blu", dial_date=T0.date(), timezone="Asia/Manila", created_at=T0
    )
    yield store.create_campaign(campaign), store.create_campaign(campaign)
    store.add_contacts(
        [Contact(campaign_id="cmp", contact_id=f"c{index}", phone=f"+63917123{index:04d}") for index in range(40)], T0
    )
    store.mark_campaign_due(campaign, T0.date())
    yield [found.campaign_id for found in store.iter_due_campaigns(T0.date())]
    yield [[contact.contact_id for contact in page] for page in store.iter_queued_contacts("cmp")]
    yield [
        store.move_contact(
            "cmp",
            f"c{index}",
            DialState.PLANNED,
            allowed_from={DialState.QUEUED},
            now=T0,
            sets={"batchId": "b1", "hold": None},
        )
        for index in range(30)
    ]
    yield store.move_contact("cmp", "c1", DialState.PLANNED, allowed_from={DialState.QUEUED}, now=T0)
    yield [
        store.move_contact(
            "cmp",
            f"c{index}",
            DialState.SUBMITTING,
            allowed_from={DialState.PLANNED},
            now=T0,
            batch_id="b1",
            sets={"claimedAt": T0.isoformat()},
        )
        for index in range(20)
    ]
    yield sorted((cid, c.state) for cid, c in store.get_contacts("cmp", [f"c{i}" for i in range(45)]).items())
    task = store.create_task(VendorTask(campaign_id="cmp", vendor="blu", local_date=T0.date(), vendor_task_id="t1"), T0)
    store.add_task_submissions(task, 20, "job-1")
    yield [found.model_dump() for found in store.iter_open_tasks()]
    store.record_dials(
        [
            DialRecord(
                phone="+639171230001",
                at=T0 + dt.timedelta(minutes=m),
                campaign_id="cmp",
                contact_id="c1",
                attempt=1,
                calls=1,
            )
            for m in range(3)
        ]
    )
    yield store.dial_history("+639171230001", T0 - dt.timedelta(days=1))
    yield [
        store.record_outcome(
            _outcome(f"call-{index}", f"c{index}", CallStatus.ANSWERED, disposition=Disposition.PROMISE_TO_PAY),
            T0,
            raw=b'{"callId": 1}',
        )
        for index in range(10)
    ]
    yield store.record_outcome(_outcome("call-1", "c1", CallStatus.ANSWERED), T0)  # a duplicate
    yield store.record_outcome(_outcome("call-99", "nobody", CallStatus.ANSWERED), T0)  # an orphan
    yield store.record_outcome(
        _outcome("call-11", "c11", CallStatus.NO_ANSWER),
        T0,
        redial=RedialRequest(hold=_hold(), max_attempts=3, dial_date=T0.date()),
    )
    yield store.finished_calls("blu", ["call-1", "call-11", "call-99", "never"])
    yield [outcome.model_dump() for outcome in store.contact_history("cmp", "c1")]
    yield store.get_outcome("blu", "call-1").model_dump()  # type: ignore[union-attr]
    yield [[c.contact_id for c in page] for page in store.iter_contacts("cmp", {DialState.FINAL, DialState.QUEUED})]
    counts = store.campaign_counts("cmp")
    yield counts.total, counts.by_state, counts.by_disposition, counts.held_back
    store.put_suppression(Suppression(phone="+639171230002", reason="asked", created_at=T0))
    yield store.suppressions(["+639171230002", "+639171230003"], T0)
    yield store.delete_suppression("+639171230002"), store.delete_suppression("+639171230002")
    # The same condition text with other values must not answer from the first one's parse.
    yield [
        store.move_contact("cmp", "c35", DialState.CANCELLED, allowed_from={state}, now=T0)
        for state in (DialState.PLANNED, DialState.QUEUED)
    ]
    # Answers the store only reads in part: every field of the raw answer, pages and counts included.
    pages, request = (
        [],
        {
            "TableName": store.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "CAMPAIGN#cmp"}},
            "Limit": 7,
        },
    )
    while True:
        answer = store.client.query(**request)
        answer.pop("ResponseMetadata")
        pages.append(answer)
        if "LastEvaluatedKey" not in answer:
            break
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    yield pages
    request.pop("ExclusiveStartKey")
    counted = store.client.query(**request | {"Select": "COUNT", "Limit": 100})
    counted.pop("ResponseMetadata")
    yield counted


def _hold() -> Any:
    from dialhub.models import REDIAL_HOLD, Hold

    return Hold(reason=REDIAL_HOLD, detail="no answer", until=T0 + dt.timedelta(hours=4), checked_at=T0)


def _run(template: SamTemplate, patched: bool) -> list[Any]:
    with mock_aws():
        if patched:
            moto_patches.apply()
        try:
            kwargs = create_table_kwargs(template, "DialhubTable", template.resolver())
            boto3.client("dynamodb").create_table(**kwargs)
            return list(_story(DynamoStore(kwargs["TableName"])))
        finally:
            if patched:
                moto_patches.restore()


def test_every_answer_is_the_same_with_and_without_the_patches(template: SamTemplate) -> None:
    plain, patched = _run(template, patched=False), _run(template, patched=True)
    assert len(plain) == len(patched) == 23
    for step, (expected, answered) in enumerate(zip(plain, patched, strict=True)):
        assert answered == expected, f"step {step}"


def test_restore_leaves_moto_as_it_found_it() -> None:
    def current() -> list[Any]:
        return [vars(owner).get(attribute) for owner, attribute, _ in moto_patches._PATCHES]

    before = current()
    moto_patches.apply()
    applied = current()
    assert all(value is not original for value, original in zip(applied, before, strict=True))
    moto_patches.apply()  # a local stack started inside a patched test: nothing more changes ...
    assert current() == applied
    moto_patches.restore()  # ... and its stop leaves the test's patches in place
    assert current() == applied
    moto_patches.restore()
    assert all(value is original for value, original in zip(current(), before, strict=True))
    moto_patches.restore()  # one restore too many is harmless
    assert all(value is original for value, original in zip(current(), before, strict=True))


def test_a_conditional_move_is_won_by_one_of_many_threads_at_once(store: DynamoStore) -> None:
    """What dispatch relies on while callbacks arrive: only one writer passes a state condition."""
    store.add_contacts([Contact(campaign_id="cmp", contact_id="c1", phone="+639171230001")], T0)
    barrier = threading.Barrier(16)

    def move(state: DialState) -> bool:
        barrier.wait()
        return store.move_contact("cmp", "c1", state, allowed_from={DialState.QUEUED}, now=T0)

    targets = [DialState.PLANNED, DialState.CANCELLED] * 8
    with ThreadPoolExecutor(16) as pool:
        won = list(pool.map(move, targets))
    assert won.count(True) == 1
    assert store.get_contact("cmp", "c1").state is targets[won.index(True)]


def test_a_streams_records_read_the_same_with_and_without_the_plain_json_answer(template: SamTemplate) -> None:
    from botocore.config import Config
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    with mock_aws():
        moto_patches.apply()
        try:
            kwargs = create_table_kwargs(template, "DialhubTable", template.resolver())
            table = boto3.client("dynamodb").create_table(**kwargs)["TableDescription"]
            client = boto3.client("dynamodb")
            for index in range(3):
                item = {"pk": {"S": f"CALL#blu#{index}"}, "sk": {"S": "CALL"}, "talk": {"N": str(index * 7)}}
                client.put_item(TableName=kwargs["TableName"], Item=item | {"variables": {"M": {"a": {"L": []}}}})
            streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
            arn = table["LatestStreamArn"]
            [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]

            def records() -> list[dict[str, Any]]:
                iterator = streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                return streams.get_records(ShardIterator=iterator)["Records"]  # type: ignore[no-any-return]

            patched = records()
            DynamoDBStreamsHandler.serialized = moto_patches._ORIGINAL_STREAM_SERIALIZED  # type: ignore[method-assign]
            try:
                plain = records()
            finally:
                DynamoDBStreamsHandler.serialized = moto_patches._stream_serialized  # type: ignore[method-assign]
        finally:
            moto_patches.restore()
    assert len(plain) == 3 and patched == plain


def test_an_event_reaches_a_rules_queue_the_same_with_and_without_the_kept_paths() -> None:
    import json

    from jsonpath_ng import ext as jsonpath_ext

    def delivered() -> dict[str, Any]:
        events, sqs = boto3.client("events"), boto3.client("sqs")
        url = sqs.create_queue(QueueName="tap")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventPattern=json.dumps({"source": ["dialhub"]}))
        events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])
        detail = {"eventId": "e1", "variables": {"amount": 1500.5, "slots": [None, "x"]}, "phone": "***4567"}
        for _ in range(2):  # the second event meets the kept parse
            events.put_events(
                Entries=[{"Source": "dialhub", "DetailType": "Contact Closed", "Detail": json.dumps(detail)}]
            )
        bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
        return {
            "count": len(bodies),
            "shapes": [{k: v for k, v in body.items() if k not in ("id", "time")} for body in bodies],
        }

    with mock_aws():
        plain = delivered()
    with mock_aws():
        moto_patches.apply()
        try:
            assert jsonpath_ext.parse is moto_patches._parsed_path
            patched = delivered()
        finally:
            moto_patches.restore()
    assert plain["count"] == 2 and patched == plain


def test_an_upload_reaches_the_default_buses_rules_as_moto_sends_it_with_s3s_own_fields() -> None:
    """The same rules match and the same object is named; what S3 writes differently from moto is S3's: a fresh
    id and increasing sequencer per event, `etag`, the request as `reason`, no version-id on an unversioned bucket,
    no event for a custom bus or a disabled rule, and one event (not two) for a completed multipart upload."""
    import json

    def delivered() -> dict[str, list[dict[str, Any]]]:
        s3, events, sqs = boto3.client("s3"), boto3.client("events"), boto3.client("sqs")
        s3.create_bucket(Bucket="uploads-here")
        s3.put_bucket_notification_configuration(
            Bucket="uploads-here", NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        events.create_event_bus(Name="custom")
        pattern = {"source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "uploads/"}]}}}
        queues = {}
        for name, bus, state in (
            ("default", "default", "ENABLED"),
            ("custom", "custom", "ENABLED"),
            ("off", "default", "DISABLED"),
        ):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State=state)
            events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
            queues[name] = url
        s3.put_object(Bucket="uploads-here", Key="uploads/a.csv", Body=b"phone\n1\n")
        s3.put_object(Bucket="uploads-here", Key="elsewhere/b.csv", Body=b"phone\n1\n")
        upload = s3.create_multipart_upload(Bucket="uploads-here", Key="uploads/big.csv")["UploadId"]
        etag = s3.upload_part(Bucket="uploads-here", Key="uploads/big.csv", UploadId=upload, PartNumber=1, Body=b"x")
        s3.complete_multipart_upload(
            Bucket="uploads-here",
            Key="uploads/big.csv",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag["ETag"]}]},
        )
        bodies: dict[str, list[dict[str, Any]]] = {name: [] for name in queues}
        for name, url in queues.items():
            while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                bodies[name] += [json.loads(message["Body"]) for message in messages]
                for message in messages:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        # moto also announces "Object Tags Added" with every PUT, tagged or not: left as it is (not corrected).
        return {
            name: [body for body in found if body["detail-type"] == "Object Created"] for name, found in bodies.items()
        }

    with mock_aws():
        plain = delivered()
    with mock_aws():
        moto_patches.apply()
        try:
            patched = delivered()
        finally:
            moto_patches.restore()

    def named(event: dict[str, Any]) -> tuple[Any, ...]:
        return (
            event["source"],
            event["detail-type"],
            event["account"],
            event["region"],
            event["resources"],
            event["detail"]["bucket"],
            event["detail"]["object"]["key"],
            event["detail"]["object"]["size"],
        )

    # moto: every bus's rules, disabled ones too, and the multipart upload twice (as a PutObject first).
    assert [event["detail"]["reason"] for event in plain["default"]] == ["ObjectCreated"] * 3
    assert len(plain["custom"]) == len(plain["off"]) == 3
    assert len({event["id"] for event in plain["default"]}) == 1
    expected = [plain["default"][0], plain["default"][2]]
    assert [named(event) for event in patched["default"]] == [named(event) for event in expected]
    assert patched["custom"] == patched["off"] == []
    assert [event["detail"]["reason"] for event in patched["default"]] == ["PutObject", "CompleteMultipartUpload"]
    assert [event["detail"]["object"]["etag"] for event in patched["default"]] == [
        event["detail"]["object"]["eTag"] for event in expected
    ]
    assert all(set(event["detail"]["object"]) == {"key", "size", "etag", "sequencer"} for event in patched["default"])
    assert len({event["id"] for event in patched["default"]}) == 2
    assert len({event["detail"]["request-id"] for event in patched["default"]}) == 2
    first, second = (int(event["detail"]["object"]["sequencer"], 16) for event in patched["default"])
    assert first < second
