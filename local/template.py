"""What template.yaml says, for the offline stack.

`sam local` needs Docker, which the development machines do not have, so the local stack runs the real
handlers in-process instead. To keep it honest it must not restate the template: routes, schedules,
queues, the table, secrets and every function's environment are read from template.yaml here, and the
CloudFormation intrinsics in them are resolved against parameter values and the local stand-ins of the
resources (a moto table name, a queue URL...). This module reads; local/resources.py builds the resources
from what it read, and local/handlers.py imports and calls the functions.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_STACK_NAME = "dialhub-local"
HANDLER_MODULE_PREFIX = "dialhub_function_"

# SAM's defaults for properties neither the function nor Globals set.
SAM_DEFAULT_TIMEOUT_SECONDS = 3
SAM_DEFAULT_MEMORY_MB = 128
SQS_DEFAULT_BATCH_SIZE = 10


class TemplateError(Exception):
    """The template says something the offline stack cannot honour."""


class ResolutionError(TemplateError):
    """An intrinsic function has no local value; the message names what is missing."""


# --------------------------------------------------------------------------- YAML with short tags

# Short tag -> long-form key. !Ref and !Condition are not "Fn::" functions.
_SHORT_TAGS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{
        f"!{name}": f"Fn::{name}"
        for name in [
            "Sub",
            "GetAtt",
            "Join",
            "If",
            "Select",
            "Split",
            "Equals",
            "Not",
            "And",
            "Or",
            "FindInMap",
            "Base64",
            "ImportValue",
            "GetAZs",
            "Cidr",
            "Length",
            "ToJsonString",
        ]
    },
}


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags (!Ref, !Sub...) into their long form."""


def _construct_short_tag(loader: CloudFormationLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    tag = "!" + tag_suffix
    key = _SHORT_TAGS.get(tag)
    if key is None:
        raise TemplateError(f"unknown CloudFormation tag {tag} at {node.start_mark}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if key == "Fn::GetAtt":
            # "Resource.Attribute" (the attribute itself may contain dots, e.g. Endpoint.Address).
            resource, _, attribute = str(value).partition(".")
            value = [resource, attribute]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)


def load_template(path: str | Path = "template.yaml") -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template, short tags included."""
    with Path(path).open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return document


# --------------------------------------------------------------------------- intrinsic functions


class _NoValue:
    """Stand-in for AWS::NoValue: the enclosing property is dropped."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Resolves intrinsics against parameter values and the local values of resources.

    `refs` maps a logical id to what `Ref` returns for it locally (table name, queue URL, secret ARN...),
    `attributes` maps (logical id, attribute) to what `Fn::GetAtt` returns.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        refs: Mapping[str, str] | None = None,
        attributes: Mapping[tuple[str, str], str] | None = None,
        *,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        stack_name: str = DEFAULT_STACK_NAME,
    ) -> None:
        self.template = template
        self.refs: dict[str, str] = dict(refs or {})
        self.attributes: dict[tuple[str, str], str] = dict(attributes or {})
        self.pseudo_parameters: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::NotificationARNs": [],
        }
        self.parameters = self._parameter_values(parameters or {})
        self._condition_cache: dict[str, bool] = {}

    @property
    def region(self) -> str:
        return str(self.pseudo_parameters["AWS::Region"])

    @property
    def account_id(self) -> str:
        return str(self.pseudo_parameters["AWS::AccountId"])

    @property
    def stack_name(self) -> str:
        return str(self.pseudo_parameters["AWS::StackName"])

    def with_values(
        self,
        refs: Mapping[str, str] | None = None,
        attributes: Mapping[tuple[str, str], str] | None = None,
    ) -> Resolver:
        """A resolver with the same parameters and more resource values (as resources get created)."""
        return Resolver(
            self.template,
            {name: parameter_text(value) for name, value in self.parameters.items()},
            {**self.refs, **(refs or {})},
            {**self.attributes, **(attributes or {})},
            region=self.region,
            account_id=self.account_id,
            stack_name=self.stack_name,
        )

    # ----------------------------------------------------------------- parameters

    def _parameter_values(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        declared: dict[str, Any] = self.template.get("Parameters") or {}
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise ResolutionError(f"parameter override(s) {unknown} are not declared in the template")
        values: dict[str, Any] = {}
        for name, declaration in declared.items():
            if name in overrides:
                text = str(overrides[name])
            elif "Default" in declaration:
                text = parameter_text(declaration["Default"])
            else:
                continue  # Only an error if something refers to it.
            _validate_parameter(name, declaration, text)
            parameter_type = str(declaration.get("Type", "String"))
            if parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<"):
                values[name] = [item.strip() for item in text.split(",")]
            else:
                values[name] = text
        return values

    # ----------------------------------------------------------------- resolution

    def resolve(self, value: Any, where: str = "") -> Any:
        """Return `value` with every intrinsic replaced by its local value."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key == "Ref" or key.startswith("Fn::"):
                    return self._intrinsic(key, argument, where)
            resolved_mapping = {key: self.resolve(item, f"{where}.{key}") for key, item in value.items()}
            return {key: item for key, item in resolved_mapping.items() if item is not NO_VALUE}
        if isinstance(value, list):
            resolved_items = [self.resolve(item, f"{where}[{index}]") for index, item in enumerate(value)]
            return [item for item in resolved_items if item is not NO_VALUE]
        return value

    def ref(self, name: str, where: str = "") -> Any:
        """What `Ref name` is locally: a parameter, a pseudo parameter or a resource's local value."""
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo_parameters:
            return self.pseudo_parameters[name]
        resources: dict[str, Any] = self.template.get("Resources") or {}
        if name in resources:
            resource_type = resources[name].get("Type", "?")
            raise ResolutionError(f"{_at(where)}no local value for Ref {name} ({resource_type}); pass it in refs")
        if name in (self.template.get("Parameters") or {}):
            raise ResolutionError(f"{_at(where)}parameter {name} has no Default and no value was given")
        raise ResolutionError(f"{_at(where)}Ref to {name}, which is neither a parameter nor a resource")

    def get_att(self, resource: str, attribute: str, where: str = "") -> Any:
        if (resource, attribute) in self.attributes:
            return self.attributes[(resource, attribute)]
        raise ResolutionError(
            f"{_at(where)}no local value for Fn::GetAtt {resource}.{attribute}; pass it in attributes"
        )

    def condition(self, name: str) -> bool:
        """Evaluate a named entry of the template's Conditions section."""
        if name not in self._condition_cache:
            conditions: dict[str, Any] = self.template.get("Conditions") or {}
            if name not in conditions:
                raise ResolutionError(f"condition {name} is not declared in the template")
            self._condition_cache[name] = self._evaluate_condition(conditions[name], f"Conditions.{name}")
        return self._condition_cache[name]

    def _evaluate_condition(self, expression: Any, where: str) -> bool:
        if isinstance(expression, bool):
            return expression
        if not isinstance(expression, dict) or len(expression) != 1:
            raise ResolutionError(f"{_at(where)}not a condition: {expression!r}")
        ((key, argument),) = expression.items()
        if key == "Condition":
            return self.condition(str(argument))
        if key == "Fn::Equals":
            left, right = (self.resolve(item, where) for item in argument)
            return parameter_text(left) == parameter_text(right)
        if key == "Fn::Not":
            return not self._evaluate_condition(argument[0], where)
        if key == "Fn::And":
            return all(self._evaluate_condition(item, where) for item in argument)
        if key == "Fn::Or":
            return any(self._evaluate_condition(item, where) for item in argument)
        raise ResolutionError(f"{_at(where)}{key} is not a condition function")

    def _intrinsic(self, key: str, argument: Any, where: str) -> Any:
        if key == "Ref":
            return self.ref(str(self.resolve(argument, where)), where)
        if key == "Fn::Sub":
            return self._sub(argument, where)
        if key == "Fn::GetAtt":
            resource, attribute = self.resolve(argument, where)
            return self.get_att(str(resource), str(attribute), where)
        if key == "Fn::Join":
            delimiter, items = argument
            resolved = self.resolve(items, where)
            return str(delimiter).join(parameter_text(item) for item in resolved)
        if key == "Fn::Select":
            index, items = self.resolve(argument, where)
            return items[int(index)]
        if key == "Fn::Split":
            delimiter, text = self.resolve(argument, where)
            return str(text).split(str(delimiter))
        if key == "Fn::Base64":
            return base64.b64encode(str(self.resolve(argument, where)).encode()).decode()
        if key == "Fn::If":
            condition_name, when_true, when_false = argument
            chosen = when_true if self.condition(str(condition_name)) else when_false
            return self.resolve(chosen, where)
        if key == "Fn::FindInMap":
            map_name, top_key, second_key = (str(item) for item in self.resolve(argument, where))
            try:
                return self.template["Mappings"][map_name][top_key][second_key]
            except KeyError as missing:
                raise ResolutionError(
                    f"{_at(where)}Fn::FindInMap {map_name}.{top_key}.{second_key} is not in Mappings"
                ) from missing
        if key == "Fn::GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        if key == "Fn::ToJsonString":
            return json.dumps(self.resolve(argument, where), separators=(",", ":"))
        raise ResolutionError(f"{_at(where)}{key} cannot be resolved locally")

    def _sub(self, argument: Any, where: str) -> str:
        if isinstance(argument, list):
            template_text, variables = argument[0], self.resolve(argument[1], where)
        else:
            template_text, variables = argument, {}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} stays literal.
            if name in variables:
                return parameter_text(variables[name])
            if "." in name and name not in self.parameters:
                resource, _, attribute = name.partition(".")
                return parameter_text(self.get_att(resource, attribute, where))
            return parameter_text(self.ref(name, where))

        return _SUB_PLACEHOLDER.sub(substitute, str(template_text))


def _at(where: str) -> str:
    return f"{where.lstrip('.')}: " if where else ""


def parameter_text(value: Any) -> str:
    """CloudFormation's string form of a value: booleans lower-case, lists comma-joined."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(parameter_text(item) for item in value)
    if isinstance(value, dict):
        raise ResolutionError(f"{value!r} cannot be used as text")
    return str(value)


def _validate_parameter(name: str, declaration: Mapping[str, Any], text: str) -> None:
    """Reject values CloudFormation would reject, so a bad local setting fails like a deploy would."""
    allowed = declaration.get("AllowedValues")
    if allowed is not None and text not in [parameter_text(item) for item in allowed]:
        raise ResolutionError(f"parameter {name}={text!r} is not one of {allowed}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), text):
        raise ResolutionError(f"parameter {name}={text!r} does not match {pattern}")
    if declaration.get("Type") == "Number":
        try:
            number = float(text)
        except ValueError as error:
            raise ResolutionError(f"parameter {name}={text!r} is not a number") from error
        if "MinValue" in declaration and number < float(declaration["MinValue"]):
            raise ResolutionError(f"parameter {name}={text} is below MinValue {declaration['MinValue']}")
        if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
            raise ResolutionError(f"parameter {name}={text} is above MaxValue {declaration['MaxValue']}")


# --------------------------------------------------------------------------- what the template declares


@dataclass(frozen=True)
class Route:
    """One HttpApi event: `METHOD /path` served by a function, with the authorizer that guards it."""

    method: str
    path: str
    function_id: str
    auth: str
    event_id: str = ""
    api_id: str | None = None

    @property
    def route_key(self) -> str:
        """API Gateway's routeKey, e.g. "POST /campaigns/{campaignId}/contacts"."""
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class Schedule:
    """A Schedule/ScheduleV2 event; `input` is what the target receives (parsed from Input)."""

    name_logical_id: str
    function_id: str
    expression: str
    timezone: str | None
    input: dict[str, Any]
    name: str | None = None
    event_type: str = "ScheduleV2"
    has_input: bool = True
    enabled: bool = True


@dataclass(frozen=True)
class SqsSource:
    """An SQS event source mapping from a template queue to a function."""

    function_id: str
    queue_id: str
    batch_size: int
    report_batch_item_failures: bool
    event_id: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB stream event source mapping from a template table to a function."""

    function_id: str
    table_id: str
    event_id: str
    batch_size: int
    batching_window_seconds: int
    bisect_on_error: bool
    report_batch_item_failures: bool
    maximum_retry_attempts: int  # -1: until the records expire
    filter_patterns: tuple[str, ...]
    on_failure_queue_id: str | None
    starting_position: str
    enabled: bool = True


@dataclass
class FunctionSpec:
    """An AWS::Serverless::Function with Globals applied; environment values are still unresolved."""

    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any]
    routes: list[Route] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    sqs_sources: list[SqsSource] = field(default_factory=list)
    stream_sources: list[StreamSource] = field(default_factory=list)
    layer_dirs: list[Path] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    properties: dict[str, Any]


class SamTemplate:
    """The parts of a SAM template the offline stack needs, read once from the file.

    `source` is the template's path, or a document already loaded with load_template; CodeUri and
    ContentUri are relative to `directory` (default: the template's folder, or the working directory
    for a loaded document).
    """

    def __init__(
        self,
        source: str | Path | Mapping[str, Any] = "template.yaml",
        parameters: Mapping[str, str] | None = None,
        *,
        directory: str | Path | None = None,
    ) -> None:
        if isinstance(source, Mapping):
            self.path: Path | None = None
            self.document: dict[str, Any] = dict(source)
            self.directory = Path(directory or Path.cwd()).resolve()
        else:
            self.path = Path(source).resolve()
            self.document = load_template(self.path)
            self.directory = Path(directory).resolve() if directory else self.path.parent
        self.parameter_overrides: dict[str, str] = dict(parameters or {})
        self.resources: dict[str, dict[str, Any]] = self.document["Resources"]
        self._globals: dict[str, Any] = self.document.get("Globals") or {}
        # Schedules, timeouts and stage names only depend on parameters, so they are resolved up front.
        self._parameter_resolver = self.resolver()
        self.queues: dict[str, QueueSpec] = {
            logical_id: QueueSpec(logical_id, resource.get("Properties") or {})
            for logical_id, resource in self._resources_of_type("AWS::SQS::Queue")
        }
        self.tables: dict[str, TableSpec] = {
            logical_id: TableSpec(logical_id, resource.get("Properties") or {})
            for logical_id, resource in self._resources_of_type("AWS::DynamoDB::Table")
        }
        self.secrets: dict[str, SecretSpec] = {
            logical_id: SecretSpec(logical_id, resource.get("Properties") or {})
            for logical_id, resource in self._resources_of_type("AWS::SecretsManager::Secret")
        }
        self.buckets: dict[str, dict[str, Any]] = {
            logical_id: resource.get("Properties") or {}
            for logical_id, resource in self._resources_of_type("AWS::S3::Bucket")
        }
        self.bucket_policies: dict[str, dict[str, Any]] = {
            logical_id: resource.get("Properties") or {}
            for logical_id, resource in self._resources_of_type("AWS::S3::BucketPolicy")
        }
        self.event_buses: dict[str, dict[str, Any]] = {
            logical_id: resource.get("Properties") or {}
            for logical_id, resource in self._resources_of_type("AWS::Events::EventBus")
        }
        self.topics: dict[str, dict[str, Any]] = {
            logical_id: resource.get("Properties") or {}
            for logical_id, resource in self._resources_of_type("AWS::SNS::Topic")
        }
        self.subscriptions: dict[str, dict[str, Any]] = dict(self._resources_of_type("AWS::SNS::Subscription"))
        self.event_rules: dict[str, dict[str, Any]] = {
            logical_id: resource.get("Properties") or {}
            for logical_id, resource in self._resources_of_type("AWS::Events::Rule")
        }
        self.queue_policies: dict[str, dict[str, Any]] = {
            logical_id: resource.get("Properties") or {}
            for logical_id, resource in self._resources_of_type("AWS::SQS::QueuePolicy")
        }
        self.functions: dict[str, FunctionSpec] = {
            logical_id: self._function_spec(logical_id, resource)
            for logical_id, resource in self._resources_of_type("AWS::Serverless::Function")
        }

    @property
    def raw(self) -> dict[str, Any]:
        """The parsed template document (intrinsics in long form)."""
        return self.document

    def resolver(
        self,
        refs: Mapping[str, str] | None = None,
        attributes: Mapping[tuple[str, str], str] | None = None,
        **pseudo: str,
    ) -> Resolver:
        """A Resolver bound to this template and its parameter overrides."""
        return Resolver(self.document, self.parameter_overrides, refs, attributes, **pseudo)

    # ----------------------------------------------------------------- flattened views

    @property
    def routes(self) -> list[Route]:
        return [route for function in self.functions.values() for route in function.routes]

    @property
    def schedules(self) -> list[Schedule]:
        return [schedule for function in self.functions.values() for schedule in function.schedules]

    @property
    def sqs_sources(self) -> list[SqsSource]:
        return [source for function in self.functions.values() for source in function.sqs_sources]

    @property
    def stream_sources(self) -> list[StreamSource]:
        return [source for function in self.functions.values() for source in function.stream_sources]

    def sqs_source(self, function_id: str) -> SqsSource:
        """The one SQS event source of a function."""
        [source] = self._function(function_id).sqs_sources
        return source

    # ----------------------------------------------------------------- functions

    def function_environment(self, function_id: str, resolver: Resolver) -> dict[str, str]:
        """The function's environment variables as Lambda would set them (all strings)."""
        spec = self._function(function_id)
        return {
            name: parameter_text(resolver.resolve(value, f"{function_id}.Environment.Variables.{name}"))
            for name, value in spec.environment.items()
        }

    def function_name(self, function_id: str, resolver: Resolver) -> str:
        """FunctionName if the template sets one, else a CloudFormation-like generated name."""
        spec = self._function(function_id)
        if "FunctionName" in spec.properties:
            return str(resolver.resolve(spec.properties["FunctionName"], f"{function_id}.FunctionName"))
        return f"{resolver.stack_name}-{function_id}"

    def http_api_stage(self, api_id: str | None = None) -> str:
        """The stage an HttpApi is deployed to; it prefixes rawPath unless it is "$default"."""
        api_ids = [logical_id for logical_id, _ in self._resources_of_type("AWS::Serverless::HttpApi")]
        if api_id is None:
            if len(api_ids) > 1:
                raise TemplateError(f"several HttpApis ({api_ids}); name the one you mean")
            api_id = api_ids[0] if api_ids else None
        properties = self._http_api_properties(api_id)
        stage = properties.get("StageName")
        return "$default" if stage is None else str(self._parameter_resolver.resolve(stage, "StageName"))

    def _function(self, function_id: str) -> FunctionSpec:
        try:
            return self.functions[function_id]
        except KeyError:
            raise TemplateError(f"no function {function_id}; the template has {sorted(self.functions)}") from None

    def _function_spec(self, logical_id: str, resource: Mapping[str, Any]) -> FunctionSpec:
        properties = _merge_globals(self._globals.get("Function") or {}, resource.get("Properties") or {})
        code_uri = properties.get("CodeUri")
        if not isinstance(code_uri, str):
            raise TemplateError(f"{logical_id}: only a local CodeUri directory can run offline, not {code_uri!r}")
        handler = properties.get("Handler")
        if not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{logical_id}: Handler must look like module.function, got {handler!r}")
        resolve = self._parameter_resolver.resolve
        spec = FunctionSpec(
            logical_id=logical_id,
            code_uri=(self.directory / code_uri).resolve(),
            handler=handler,
            timeout=int(resolve(properties.get("Timeout", SAM_DEFAULT_TIMEOUT_SECONDS), f"{logical_id}.Timeout")),
            memory=int(resolve(properties.get("MemorySize", SAM_DEFAULT_MEMORY_MB), f"{logical_id}.MemorySize")),
            environment=dict((properties.get("Environment") or {}).get("Variables") or {}),
            layer_dirs=[self._layer_dir(logical_id, layer) for layer in properties.get("Layers") or []],
            properties=properties,
        )
        for event_id, event in (properties.get("Events") or {}).items():
            event_type = event.get("Type")
            event_properties = event.get("Properties") or {}
            if event_type == "HttpApi":
                spec.routes.append(self._route(logical_id, event_id, event_properties))
            elif event_type in ("ScheduleV2", "Schedule"):
                spec.schedules.append(self._schedule(logical_id, event_id, event_type, event_properties))
            elif event_type == "SQS":
                spec.sqs_sources.append(self._sqs_source(logical_id, event_id, event_properties))
            elif event_type == "DynamoDB":
                spec.stream_sources.append(self._stream_source(logical_id, event_id, event_properties))
            elif event_type is not None:
                raise TemplateError(f"{logical_id}.{event_id}: the offline stack cannot drive {event_type} events")
        return spec

    def _layer_dir(self, function_id: str, layer: Any) -> Path:
        """The directory a layer puts on sys.path (/opt/python in Lambda)."""
        layer_id = layer.get("Ref") if isinstance(layer, dict) else None
        resource = self.resources.get(str(layer_id)) or {}
        if resource.get("Type") not in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            raise TemplateError(f"{function_id}: layer {layer!r} is not a layer of this template")
        properties = resource.get("Properties") or {}
        content_uri = properties.get("ContentUri") or properties.get("Content")
        if not isinstance(content_uri, str):
            raise TemplateError(f"{layer_id}: only a local ContentUri directory can run offline")
        content_dir = (self.directory / content_uri).resolve()
        build_method = str((resource.get("Metadata") or {}).get("BuildMethod", ""))
        # `sam build` copies a pythonX.Y-built layer into python/; an unbuilt layer must already have it.
        if build_method.startswith("python") or not (content_dir / "python").is_dir():
            return content_dir
        return content_dir / "python"

    def _http_api_properties(self, api_id: str | None) -> dict[str, Any]:
        """An HttpApi's properties with Globals.HttpApi applied (api_id None: SAM's implicit API)."""
        own = (self.resources.get(api_id) or {}).get("Properties") or {} if api_id else {}
        return _merge_globals(self._globals.get("HttpApi") or {}, own)

    def _route(self, function_id: str, event_id: str, properties: Mapping[str, Any]) -> Route:
        api_ref = properties.get("ApiId")
        api_id = str(api_ref["Ref"]) if isinstance(api_ref, dict) and "Ref" in api_ref else None
        if api_ref is not None and api_id not in self.resources:
            raise TemplateError(f"{function_id}.{event_id}: ApiId {api_ref!r} is not an HttpApi of this template")
        api_auth = self._http_api_properties(api_id).get("Auth") or {}
        route_auth = properties.get("Auth") or {}
        auth = route_auth.get("Authorizer", api_auth.get("DefaultAuthorizer", "NONE"))
        path = properties.get("Path")
        method = properties.get("Method")
        if path is None and method is None:
            path, method = "$default", "ANY"  # SAM: an HttpApi event without Path/Method is $default.
        method_text = str(method).upper()
        return Route(
            method="ANY" if method_text in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method_text,
            path=str(path),
            function_id=function_id,
            auth=str(auth),
            event_id=event_id,
            api_id=api_id,
        )

    def _schedule(self, function_id: str, event_id: str, event_type: str, properties: Mapping[str, Any]) -> Schedule:
        resolve = self._parameter_resolver.resolve
        where = f"{function_id}.Events.{event_id}"
        expression_key = "ScheduleExpression" if event_type == "ScheduleV2" else "Schedule"
        raw_input = properties.get("Input")
        event_input: Any = {}
        if raw_input is not None:
            resolved_input = resolve(raw_input, f"{where}.Input")
            event_input = json.loads(resolved_input) if isinstance(resolved_input, str) else resolved_input
        timezone = properties.get("ScheduleExpressionTimezone")
        name = properties.get("Name")
        disabled = properties.get("Enabled") is False or str(properties.get("State", "")).upper() == "DISABLED"
        return Schedule(
            name_logical_id=event_id,
            function_id=function_id,
            expression=str(resolve(properties.get(expression_key), f"{where}.{expression_key}")),
            timezone=None if timezone is None else str(resolve(timezone, f"{where}.Timezone")),
            input=event_input,
            name=None if name is None else str(resolve(name, f"{where}.Name")),
            event_type=event_type,
            has_input=raw_input is not None,
            enabled=not disabled,
        )

    def _sqs_source(self, function_id: str, event_id: str, properties: Mapping[str, Any]) -> SqsSource:
        queue = properties.get("Queue")
        get_att = queue.get("Fn::GetAtt") if isinstance(queue, dict) else None
        if not get_att or get_att[0] not in self.queues or get_att[1] != "Arn":
            raise TemplateError(
                f"{function_id}.{event_id}: Queue must be !GetAtt <queue of this template>.Arn, got {queue!r}"
            )
        response_types = properties.get("FunctionResponseTypes") or []
        return SqsSource(
            function_id=function_id,
            queue_id=str(get_att[0]),
            batch_size=int(self._parameter_resolver.resolve(properties.get("BatchSize", SQS_DEFAULT_BATCH_SIZE))),
            report_batch_item_failures="ReportBatchItemFailures" in response_types,
            event_id=event_id,
            enabled=properties.get("Enabled", True) is not False,
        )

    def _stream_source(self, function_id: str, event_id: str, properties: Mapping[str, Any]) -> StreamSource:
        where = f"{function_id}.{event_id}"
        stream = properties.get("Stream")
        get_att = stream.get("Fn::GetAtt") if isinstance(stream, dict) else None
        if not get_att or get_att[0] not in self.tables or get_att[1] != "StreamArn":
            raise TemplateError(f"{where}: Stream must be !GetAtt <table of this template>.StreamArn, got {stream!r}")
        on_failure = ((properties.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        failure_att = on_failure.get("Fn::GetAtt") if isinstance(on_failure, dict) else None
        if on_failure is not None and (not failure_att or failure_att[0] not in self.queues):
            raise TemplateError(f"{where}: OnFailure must be !GetAtt <queue of this template>.Arn, got {on_failure!r}")
        resolve = self._parameter_resolver.resolve
        filters = ((properties.get("FilterCriteria") or {}).get("Filters")) or []
        return StreamSource(
            function_id=function_id,
            table_id=str(get_att[0]),
            event_id=event_id,
            batch_size=int(resolve(properties.get("BatchSize", 100), f"{where}.BatchSize")),
            batching_window_seconds=int(resolve(properties.get("MaximumBatchingWindowInSeconds", 0), where)),
            bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
            report_batch_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
            maximum_retry_attempts=int(resolve(properties.get("MaximumRetryAttempts", -1), where)),
            filter_patterns=tuple(str(resolve(entry["Pattern"], f"{where}.FilterCriteria")) for entry in filters),
            on_failure_queue_id=str(failure_att[0]) if failure_att else None,
            starting_position=str(properties.get("StartingPosition", "TRIM_HORIZON")),
            enabled=properties.get("Enabled", True) is not False,
        )

    # ----------------------------------------------------------------- helpers

    def _resources_of_type(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (logical_id, resource)
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == resource_type
        ]


def _merge_globals(global_properties: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge (the resource wins), lists concatenate, scalars are overridden."""
    merged: dict[str, Any] = dict(global_properties)
    for key, value in own.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = _merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = [*current, *value]
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    key = next(iter(value)) if len(value) == 1 else ""
    return key == "Ref" or key.startswith("Fn::")
