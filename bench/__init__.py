"""`make bench`: what a call costs in Lambda (milliseconds and requests), measured on this machine.

Every timing is a ratio against a baseline taken in the same run (`import boto3`, a bare `put_item`, a
handler doing only the one write), so the figures survive a noisy, shared machine. Request counts are
exact: botocore event hooks for DynamoDB, a counting wrapper on httpx for the vendors.
"""
