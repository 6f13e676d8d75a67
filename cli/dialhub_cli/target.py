"""Where the API is and how to sign for it: `--url` (make serve, unsigned unless `--sigv4`) or `--stack` (the
CloudFormation stack's `ApiUrl` output, every request signed), credentials from the standard AWS chain."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dialhub_cli.client import Api, CliError
from dialhub_cli.signing import SigV4
from dialhub_cli.tls import verify_for

API_URL_OUTPUT = "ApiUrl"  # template.yaml's Outputs


class NoTarget(Exception):
    """Neither --url nor --stack: a usage error (exit 2)."""


@dataclass
class Target:
    url: str | None = None
    stack: str | None = None
    profile: str | None = None
    region: str | None = None
    sigv4: bool = False
    ca_bundle: Path | None = None
    timeout: float = 30.0
    _api: Api | None = field(default=None, repr=False)
    _session: Any = field(default=None, repr=False)

    @property
    def signs(self) -> bool:
        return self.sigv4 or self.stack is not None

    def session(self) -> Any:
        """boto3's session: --profile and --region, else the environment and AWS config files, as the AWS CLI."""
        if self._session is None:
            import boto3
            from botocore.exceptions import ProfileNotFound

            try:
                self._session = boto3.Session(profile_name=self.profile, region_name=self.region)
            except ProfileNotFound as exc:
                raise CliError(f"no AWS profile named {self.profile} in the AWS config files") from exc
            if not self._session.region_name:
                raise CliError("no AWS region: give --region, or set AWS_REGION or a profile's region")
        return self._session

    def api_url(self) -> str:
        if self.url is not None:
            return self.url
        if self.stack is None:
            raise NoTarget
        return stack_api_url(self.session(), self.stack)

    def api(self) -> Api:
        if self._api is None:
            base = self.api_url()
            if httpx.URL(base).scheme not in ("http", "https"):
                raise CliError(f"{base} is not an http(s) URL")
            auth = SigV4(self._credentials, self.session().region_name) if self.signs else None
            self._api = Api(base, auth=auth, verify=verify_for(base, base, self.ca_bundle), timeout=self.timeout)
        return self._api

    def link_verify(self, link: str) -> Any:
        """httpx's `verify` for an upload or download link the API handed out."""
        return verify_for(link, self.api().base_url, self.ca_bundle)

    def _credentials(self) -> Any:
        credentials = self.session().get_credentials()
        if credentials is None:
            raise CliError(
                "no AWS credentials found to sign with",
                ["give --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or log in (aws sso login)"],
            )
        return credentials.get_frozen_credentials()

    def close(self) -> None:
        if self._api is not None:
            self._api.close()


def stack_api_url(session: Any, stack: str) -> str:
    """The API's URL from the stack's outputs (`sam deploy` prints them too)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CliError(
            f"cannot read stack {stack} in {session.region_name}: {error.get('Message') or error.get('Code')}"
        ) from exc
    except BotoCoreError as exc:
        raise CliError(f"cannot read stack {stack} in {session.region_name}: {exc}") from exc
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
    if API_URL_OUTPUT not in outputs:
        raise CliError(f"stack {stack} has no {API_URL_OUTPUT} output: is it a dialhub stack, fully deployed?")
    return str(outputs[API_URL_OUTPUT])
