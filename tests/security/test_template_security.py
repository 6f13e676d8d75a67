"""What template.yaml grants: every internal route needs IAM (SigV4), only the vendor webhooks are open (they
authenticate in code, see test_webhook_auth.py), and every IAM permission is scoped to this stack's own data
resources with no `*` action. cfn-lint must find nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from local.template import load_template
from tests.conftest import ROOT
from tests.security.conftest import record_figures

TEMPLATE_PATH = ROOT / "template.yaml"
TEMPLATE = load_template(TEMPLATE_PATH)
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
OPEN_ROUTES = {"POST /webhooks/{vendor}", "POST /webhooks/{vendor}/{kind}"}
DATA_SERVICES = {"dynamodb", "sqs", "secretsmanager", "ssm", "s3", "kms", "logs"}
# SAM policy templates that grant a fixed list of actions on the one resource passed in.
SCOPED_POLICY_TEMPLATES = {
    "DynamoDBCrudPolicy",
    "DynamoDBReadPolicy",
    "DynamoDBWritePolicy",
    "SQSSendMessagePolicy",
    "SQSPollerPolicy",
    "AWSSecretsManagerGetSecretValuePolicy",
    "SSMParameterReadPolicy",
    "KMSDecryptPolicy",
}


def _of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == kind}


def _http_routes() -> list[tuple[str, str, str | None]]:
    """(function, "METHOD /path", authorizer override or None) for every HttpApi event, read from the YAML."""
    routes = []
    for function, resource in _of_type("AWS::Serverless::Function").items():
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                properties = event["Properties"]
                authorizer = (properties.get("Auth") or {}).get("Authorizer")
                routes.append((function, f"{properties['Method'].upper()} {properties['Path']}", authorizer))
    return routes


def test_the_http_api_makes_iam_the_default_authorizer() -> None:
    apis = _of_type("AWS::Serverless::HttpApi")
    assert apis, "no HttpApi in the template"
    for name, api in apis.items():
        auth = api["Properties"].get("Auth") or {}
        assert auth.get("EnableIamAuthorizer") is True, name
        assert auth.get("DefaultAuthorizer") == "AWS_IAM", name


def test_every_internal_route_requires_iam_and_only_the_webhooks_are_open() -> None:
    routes = _http_routes()
    opened = {route for _, route, authorizer in routes if authorizer not in (None, "AWS_IAM")}
    internal = [route for _, route, authorizer in routes if authorizer in (None, "AWS_IAM")]
    assert opened == OPEN_ROUTES, f"routes without IAM: {sorted(opened)}"
    assert all(not route.split(" ", 1)[1].startswith("/webhooks") for route in internal)
    for function, route, authorizer in routes:
        if route in OPEN_ROUTES:
            assert function == "WebhooksFunction" and authorizer == "NONE", (function, route)
    record_figures(
        "template_iam",
        {
            "internal_routes_requiring_iam": len(internal),
            "open_routes": len(opened),
            "open_routes_authenticated_in_code": len(opened & OPEN_ROUTES),
        },
    )


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _problems_in_statement(where: str, statement: dict[str, Any]) -> list[str]:
    if statement.get("Effect") != "Allow":
        return []
    actions = [str(action) for action in _as_list(statement.get("Action", []))]
    problems = [
        f"{where}: action {action!r} is a wildcard" for action in actions if action == "*" or action.endswith(":*")
    ]
    on_data = [action for action in actions if action.split(":", 1)[0].lower() in DATA_SERVICES]
    if on_data and "*" in _as_list(statement.get("Resource", [])):
        problems.append(f"{where}: {on_data} on Resource '*'")
    if "NotAction" in statement or "NotResource" in statement:
        problems.append(f"{where}: NotAction/NotResource grants everything else")
    return problems


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::Sub")


def _policy_problems() -> list[str]:
    problems: list[str] = []
    for name, resource in _of_type("AWS::Serverless::Function").items():
        properties = resource["Properties"]
        if "Role" in properties:
            problems.append(f"{name}: a role of its own (Role) is not checked here; use Policies")
        for index, policy in enumerate(_as_list(properties.get("Policies", []))):
            where = f"{name}.Policies[{index}]"
            if isinstance(policy, str):
                problems.append(f"{where}: managed policy {policy!r} (not scoped to this stack's resources)")
            elif "Statement" in policy:
                for statement in _statements(policy):
                    problems.extend(_problems_in_statement(where, statement))
            else:
                [(template_name, parameters)] = policy.items()
                if template_name not in SCOPED_POLICY_TEMPLATES:
                    problems.append(f"{where}: {template_name} is not a known resource-scoped policy template")
                for key, value in (parameters or {}).items():
                    if not _is_intrinsic(value):
                        problems.append(f"{where}: {template_name}.{key} = {value!r} is not a resource of this stack")
    for kind in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for name, resource in _of_type(kind).items():
            documents = [*resource["Properties"].get("Policies", []), resource["Properties"]]
            for document in documents:
                for statement in _statements(document.get("PolicyDocument", {})):
                    problems.extend(_problems_in_statement(name, statement))
    return problems


def test_every_permission_is_scoped_to_a_resource_of_this_stack_with_no_wildcard_action() -> None:
    assert _policy_problems() == []


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ({"Effect": "Allow", "Action": "dynamodb:*", "Resource": {"Fn::GetAtt": ["DialhubTable", "Arn"]}}, "wildcard"),
        ({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": "*"}, "Resource '*'"),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "wildcard"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NotAction"),
    ],
)
def test_the_least_privilege_rule_would_catch_a_broad_grant(statement: dict[str, Any], found: str) -> None:
    """The rule above is only as good as what it can see: each of these grants must be reported."""
    assert any(found in problem for problem in _problems_in_statement("example", statement))


# What each function may do to the table and which of its indexes it may query: what its code does, no more.
# Every offline run (make test, make demo, make chaos) refuses a function any call outside its Policies
# (local/iam.py), so a grant missing here fails there; this pins the grants themselves.
TABLE_GRANTS: dict[str, tuple[set[str], set[str]]] = {
    "ApiFunction": (
        {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem", "BatchWriteItem"},
        {"gsi1", "gsi2", "gsi3"},  # gsi1: POST .../dispatch plans the campaign's queued contacts
    ),
    "WebhooksFunction": ({"GetItem", "PutItem", "UpdateItem"}, set()),
    "SchedulerFunction": ({"GetItem", "PutItem", "UpdateItem", "Query", "BatchGetItem"}, {"gsi1"}),
    "DispatcherFunction": ({"GetItem", "PutItem", "UpdateItem", "Query", "BatchGetItem", "BatchWriteItem"}, set()),
    "PollerFunction": ({"GetItem", "PutItem", "UpdateItem", "Query", "BatchGetItem"}, {"gsi1"}),
    "ExportsFunction": ({"GetItem", "UpdateItem", "Query", "BatchGetItem"}, {"gsi2"}),  # gsi2: a report's histories
    "EventsFunction": ({"GetItem", "UpdateItem", "BatchGetItem"}, set()),
    "ImporterFunction": ({"GetItem", "UpdateItem", "BatchGetItem", "BatchWriteItem"}, set()),
}


def _table_grants(function: str) -> tuple[set[str], set[str], list[Any]]:
    """(DynamoDB actions on the table, indexes it may query, any other resource named) of one function."""
    actions: set[str] = set()
    indexes: set[str] = set()
    other: list[Any] = []
    for policy in _as_list(RESOURCES[function]["Properties"].get("Policies", [])):
        for statement in _statements(policy) if isinstance(policy, dict) else []:
            granted = [str(action) for action in _as_list(statement.get("Action", []))]
            if not any(action.startswith("dynamodb:") for action in granted):
                continue
            for resource in _as_list(statement["Resource"]):
                if resource == {"Fn::GetAtt": ["DialhubTable", "Arn"]}:
                    actions.update(action.removeprefix("dynamodb:") for action in granted)
                elif (
                    isinstance(resource, dict)
                    and str(resource.get("Fn::Sub", "")).startswith("${DialhubTable.Arn}/index/")
                    and granted == ["dynamodb:Query"]
                ):
                    indexes.add(resource["Fn::Sub"].removeprefix("${DialhubTable.Arn}/index/"))
                else:
                    other.append(resource)
    return actions, indexes, other


def test_each_function_may_do_to_the_table_only_what_its_code_does() -> None:
    functions = set(_of_type("AWS::Serverless::Function"))
    assert set(TABLE_GRANTS) == functions
    for function, expected in TABLE_GRANTS.items():
        actions, indexes, other = _table_grants(function)
        assert (actions, indexes, other) == (*expected, []), function
    granted = {action for function in functions for action in _table_grants(function)[0]}
    assert "Scan" not in granted  # nothing reads the whole table
    assert [function for function in functions if "DeleteItem" in _table_grants(function)[0]] == ["ApiFunction"]
    record_figures("table_grants", {function: len(_table_grants(function)[0]) for function in sorted(functions)})


def test_cfn_lint_finds_nothing() -> None:
    """cfn-lint without the SAM translator checks the plain CloudFormation resources (table, queues, secrets,
    logs); `make validate` runs `sam validate --lint` over the transformed template as well."""
    matches = lint_file(Path(TEMPLATE_PATH), config=ManualArgs(regions=["us-east-1"]))
    assert [str(match) for match in matches] == []
