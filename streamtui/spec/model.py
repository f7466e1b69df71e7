"""The shape of a chain.yaml file, as pydantic models (``extra="forbid"`` everywhere).

These models check shapes and types only; what needs the file's positions or other
parts of the file (which provider takes which setting, graph topology, imports) is
checked while building (``build.py``, ``graph.py``). Every alternative shape is a union
with a callable discriminator, so a mistake produces one error about the shape the user
meant, not one per alternative.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    StrictInt,
    Tag,
    field_validator,
)

__all__ = [
    "IMPORT_PATTERN",
    "PROVIDERS",
    "REAL_PROVIDER_FIELDS",
    "SCRIPTED_FIELDS",
    "STREAM_MODES",
    "ConditionalEdge",
    "ModelSpec",
    "NodeSpec",
    "ParserOptions",
    "PromptSpec",
    "RetrieverSpec",
    "SpecFile",
    "StateFieldSpec",
    "StepSpec",
    "StreamSpec",
]

IMPORT_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.]*$"
ImportPath = Annotated[str, Field(pattern=IMPORT_PATTERN)]

STREAM_MODES = (
    "events",
    "values",
    "updates",
    "custom",
    "messages",
    "debug",
    "tasks",
    "checkpoints",
)
StreamMode = Literal[
    "events", "values", "updates", "custom", "messages", "debug", "tasks", "checkpoints"
]
PROVIDERS = ("scripted", "openai", "anthropic", "openai-compatible")
Provider = Literal["scripted", "openai", "anthropic", "openai-compatible"]
Role = Literal["system", "human", "user", "ai", "assistant", "placeholder"]
TypeName = Literal["str", "int", "float", "bool", "list", "dict", "messages", "any"]
Reducer = Literal["append", "add", "add_messages", "replace"]

SCRIPTED_FIELDS = frozenset(
    {"responses", "chunking", "first_chunk_latency", "chunk_latency", "error_on_chunk", "error"}
)
REAL_PROVIDER_FIELDS = frozenset(
    {"base_url", "api_key", "temperature", "max_tokens", "max_retries", "timeout"}
)


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "scalar"


class SpecModel(BaseModel):
    """Base: unknown keys are errors; ``spec_label`` names the block in messages."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    spec_label: ClassVar[str] = "this block"
    spec_shape: ClassVar[str] = "a mapping (key: value lines)"


# --- stream ---------------------------------------------------------------------------


class StreamSpec(SpecModel):
    """Which stream modes to watch and which runs' events to keep."""

    spec_label = "stream"
    modes: list[StreamMode] | None = Field(
        None,
        description="Stream modes: events (astream_events) and, for graphs, values, updates, "
        "custom, messages, debug, tasks, checkpoints. Unset: the runner's default.",
    )
    include_names: list[str] | None = Field(
        None, description="Keep only events of runs with these names."
    )
    include_types: list[str] | None = Field(
        None, description="Keep only events of these run types (chat_model, parser, ...)."
    )
    include_tags: list[str] | None = Field(
        None, description="Keep only events of runs with these tags."
    )
    exclude_names: list[str] | None = Field(
        None, description="Drop events of runs with these names."
    )
    exclude_types: list[str] | None = Field(None, description="Drop events of these run types.")
    exclude_tags: list[str] | None = Field(None, description="Drop events of runs with these tags.")


# --- steps ----------------------------------------------------------------------------


class PromptSpec(SpecModel):
    """A chat prompt: one template (a human message) or a list of [role, template]."""

    spec_label = "prompt"
    template: str | None = Field(
        None, description="An f-string template, e.g. 'tell me a joke about {topic}'."
    )
    messages: list[tuple[Role, str]] | None = Field(
        None,
        description="[role, template] pairs; role is system, human, ai or placeholder "
        "(with '{variable}' naming a list of messages).",
    )


PromptField = Annotated[
    Annotated[str, Tag("text")] | Annotated[PromptSpec, Tag("options")],
    Discriminator(lambda v: "text" if isinstance(v, str) else "options"),
    Field(description="A prompt: a template string, {template: ...} or {messages: [...]}."),
]


class ToolCallSpec(SpecModel):
    """A tool call a scripted reply makes."""

    spec_label = "tool call"
    name: str = Field(description="The tool's name.")
    args: dict[str, Any] = Field(default_factory=dict, description="The call's arguments.")
    id: str | None = Field(None, description="The call id (default call_<index>).")


class ScriptedMessage(SpecModel):
    """A scripted reply with tool calls."""

    spec_label = "scripted reply"
    content: str = Field("", description="The reply text.")
    tool_calls: list[ToolCallSpec] = Field(
        default_factory=list, description="Tool calls streamed as tool_call_chunks."
    )


Response = Annotated[
    Annotated[str, Tag("text")]
    | Annotated[list[str], Tag("chunks")]
    | Annotated[ScriptedMessage, Tag("message")],
    Discriminator(lambda v: {"mapping": "message", "list": "chunks"}.get(_shape(v), "text")),
]

Chunking = Annotated[
    Annotated[Literal["words", "chars"], Tag("named")]
    | Annotated[Annotated[StrictInt, Field(gt=0)], Tag("size")],
    Discriminator(lambda v: "named" if isinstance(v, str) else "size"),
]


class ModelSpec(SpecModel):
    """A chat model: the scripted one (default, offline) or a real provider."""

    spec_label = "model"
    provider: Provider = Field(
        "scripted",
        description="scripted (default, no key, no network), openai, anthropic or "
        "openai-compatible (needs base_url).",
    )
    # scripted
    responses: list[Response] | None = Field(
        None,
        description="scripted: replies used in turn; each a string, a list of chunks, or "
        "{content, tool_calls}.",
    )
    chunking: Chunking | None = Field(
        None, description="scripted: words (default), chars, or a chunk size in characters."
    )
    first_chunk_latency: NonNegativeFloat | None = Field(
        None, description="scripted: seconds before the first chunk."
    )
    chunk_latency: NonNegativeFloat | None = Field(
        None, description="scripted: seconds between chunks."
    )
    error_on_chunk: NonNegativeInt | None = Field(
        None, description="scripted: fail before this chunk (0-based), to test errors."
    )
    error: str | None = Field(
        None, description="scripted: the failure's message (with error_on_chunk)."
    )
    # every provider
    model: str | None = Field(None, description="The model name, e.g. gpt-4o-mini.")
    name: str | None = Field(None, description="The run name shown in events.")
    disable_streaming: bool | None = Field(
        None, description="Call the model without streaming (one chunk)."
    )
    # real providers
    base_url: str | None = Field(
        None, description="The server's URL (required for openai-compatible)."
    )
    api_key: str | None = Field(
        None, description="Only as ${env:VAR}; unset: the provider's usual variable."
    )
    temperature: NonNegativeFloat | None = Field(None, description="Sampling temperature.")
    max_tokens: PositiveInt | None = Field(None, description="Most tokens to generate.")
    max_retries: NonNegativeInt | None = Field(None, description="Retries on transient errors.")
    timeout: PositiveFloat | None = Field(None, description="Request timeout in seconds.")

    @field_validator("responses", mode="before")
    @classmethod
    def _one_response(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, dict)) else value


class JsonParserOptions(SpecModel):
    """Options of the JSON parser."""

    spec_label = "json parser"
    diff: bool = Field(False, description="Yield JSON Patch operations instead of objects.")


class ParserOptions(SpecModel):
    """A parser with options: {json: {diff: true}} or {str: {}}."""

    spec_label = "parser"
    json_: JsonParserOptions | None = Field(None, alias="json", description="JsonOutputParser.")
    str_: dict[str, Any] | None = Field(None, alias="str", description="StrOutputParser.")


ParserField = Annotated[
    Annotated[Literal["str", "json"], Tag("name")] | Annotated[ParserOptions, Tag("options")],
    Discriminator(lambda v: "options" if isinstance(v, dict) else "name"),
    Field(description="str (StrOutputParser), json (JsonOutputParser) or {json: {diff: true}}."),
]


class DocumentSpec(SpecModel):
    """A document with metadata."""

    spec_label = "document"
    page_content: str = Field(description="The text.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Any metadata.")


DocumentItem = Annotated[
    Annotated[str, Tag("text")] | Annotated[DocumentSpec, Tag("document")],
    Discriminator(lambda v: "document" if isinstance(v, dict) else "text"),
]


class RetrieverSpec(SpecModel):
    """An in-memory BM25 retriever over documents written in the file."""

    spec_label = "retriever"
    documents: list[DocumentItem] = Field(
        description="Texts, or {page_content, metadata} mappings."
    )
    k: PositiveInt = Field(4, description="How many documents to return.")


RetrieverField = Annotated[
    Annotated[ImportPath, Tag("import")] | Annotated[RetrieverSpec, Tag("options")],
    Discriminator(lambda v: "import" if isinstance(v, str) else "options"),
    Field(description="{documents: [...], k: 4} or an import path package.module:retriever."),
]


class StepSpec(SpecModel):
    """One step of a chain: a one-key mapping naming its kind."""

    spec_label = "step"
    spec_shape = "a one-key mapping such as '- prompt: ...' or '- parser: str'"
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"minProperties": 1, "maxProperties": 1},
    )
    prompt: PromptField | None = None
    model: ModelSpec | None = Field(None, description="A chat model.")
    parser: ParserField | None = None
    tool: ImportPath | None = Field(None, description="A streamtui tool: package.module:tool.")
    retriever: RetrieverField | None = None
    lambda_: ImportPath | None = Field(
        None, alias="lambda", description="A function run as a step: package.module:function."
    )
    parallel: dict[str, ParallelBranch] | None = Field(
        None, description="Run branches on the same input; the output maps each key to its result."
    )

    @field_validator("model", mode="before")
    @classmethod
    def _default_model(cls, value: Any) -> Any:
        return {} if value is None else value


ParallelBranch = Annotated[
    Annotated[list[StepSpec], Tag("chain")] | Annotated[StepSpec, Tag("step")],
    Discriminator(lambda v: "chain" if isinstance(v, list) else "step"),
]

StepSpec.model_rebuild()

STEP_KINDS = ("prompt", "model", "parser", "tool", "retriever", "lambda", "parallel")

# --- graph ----------------------------------------------------------------------------


class StateFieldSpec(SpecModel):
    """A state key with a type, a reducer and a default."""

    spec_label = "state key"
    type: TypeName | None = Field(
        None, description="str, int, float, bool, list, dict, messages or any."
    )
    reducer: Reducer | None = Field(
        None,
        description="How writes merge: replace (default), append (extend a list), add (+), "
        "add_messages.",
    )
    default: Any = Field(None, description="The value when the input does not set it.")
    description: str | None = Field(None, description="What the key holds.")


StateField = Annotated[
    Annotated[TypeName, Tag("type")] | Annotated[StateFieldSpec, Tag("spec")],
    Discriminator(lambda v: "spec" if isinstance(v, dict) else "type"),
]


class NodeSpec(SpecModel):
    """A graph node: a chain run on the state, or a Python function."""

    spec_label = "node"
    steps: Annotated[list[StepSpec], Field(min_length=1)] | None = Field(
        None, description="A chain run on the state (composed like prompt | model | parser)."
    )
    output: str | None = Field(None, description="The state key the chain's output is written to.")
    call: ImportPath | None = Field(
        None, description="A function state -> update: package.module:function."
    )


class SimpleEdge(SpecModel):
    """An edge: after `from` runs, run `to`."""

    spec_label = "edge"
    from_: str = Field(alias="from", description="A node or START.")
    to: str = Field(description="A node or END.")


class ConditionalEdge(SpecModel):
    """A conditional edge: `route` decides where to go after `from`."""

    spec_label = "conditional edge"
    from_: str = Field(alias="from", description="A node or START.")
    route: str = Field(
        description="An import path package.module:function, or a safe expression over "
        "`state`, e.g. \"state['score'] < 3\"."
    )
    then: dict[Any, str] | None = Field(
        None, description="Route value -> node (or END); unset: the route returns node names."
    )


Edge = Annotated[
    Annotated[tuple[str, str], Tag("pair")]
    | Annotated[SimpleEdge, Tag("link")]
    | Annotated[ConditionalEdge, Tag("route")],
    Discriminator(
        lambda v: (
            "pair"
            if isinstance(v, (list, tuple))
            else ("route" if "route" in v else "link")
            if isinstance(v, dict)
            else None
        ),
        custom_error_type="edge_shape",
        custom_error_message="an edge is [from, to], {from: A, to: B} or "
        "{from: A, route: ..., then: {...}}",
    ),
]

# --- the file -------------------------------------------------------------------------


class SpecFile(SpecModel):
    """A streamtui chain.yaml: what to run (entrypoint, steps, or a graph), its default
    input and how to stream it."""

    spec_label = "the top level"
    spec_shape = "a mapping with name:, input: and steps: (or entrypoint:, or nodes:)"
    model_config = ConfigDict(extra="forbid", frozen=True, title="streamtui chain.yaml")
    name: str | None = Field(None, description="The run's name (default: the file name).")
    description: str | None = Field(None, description="What this chain does.")
    input: Any = Field(None, description="Default input; --input key=value overrides keys.")
    stream: StreamSpec | None = Field(None, description="Stream modes and event filters.")
    entrypoint: str | None = Field(
        None,
        description="Run an existing runnable or graph: path/to/app.py:name (relative to "
        "this file) or package.module:name.",
    )
    steps: Annotated[list[StepSpec], Field(min_length=1)] | None = Field(
        None, description="A chain, composed like prompt | model | parser."
    )
    state: dict[str, StateField] | None = Field(
        None, description="A declared graph's state: key -> type, or {type, reducer, default}."
    )
    nodes: dict[str, NodeSpec] | None = Field(None, description="A declared graph's nodes.")
    edges: list[Edge] | None = Field(
        None, description="A declared graph's edges; START and END are spelled as such."
    )
