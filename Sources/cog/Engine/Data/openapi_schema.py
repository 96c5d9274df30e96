# Prints the OpenAPI schema of a Cog predictor, for .cog/openapi_schema.json (which the runtime serves and
# validates inputs against). Runs inside the built image with its own cog package, so the types are read by the
# very code that will serve them. Arguments: PREDICTOR_REF (file.py:Class) and the cog CLI version.
# The fallback of openapi_schema_static.py, for what cannot be read without importing the predictor.
import inspect, json, os, sys, warnings

warnings.simplefilter("ignore")
sys.path.insert(0, os.getcwd())
# Only the schema goes to standard output: whatever the predictor's module or cog prints while it is imported
# (a print at import, cog's warning about `-> Any`, output of C extensions) goes to standard error.
schema_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
try:
    from cog import _adt as adt
except ImportError:
    # cog 0.16 (Python 3.8 and 3.9) has no cog._adt: its own generator, which reads the predictor from cog.yaml
    # and silences the predictor's output itself; what it prints (indented JSON) is captured in a file.
    import runpy, tempfile

    captured = tempfile.TemporaryFile(mode="w+")
    os.dup2(captured.fileno(), 1)
    runpy.run_module("cog.command.openapi_schema", run_name="__main__", alter_sys=True)
    sys.stdout.flush()
    captured.seek(0)
    schema_out.write(json.dumps(json.load(captured), sort_keys=True, separators=(",", ":")) + "\n")
    schema_out.flush()
    sys.exit(0)
from cog._inspector import create_predictor, _selected_predict_method
import cog, cog.input, importlib, typing

# Which Input() calls name a default: `Input(default=None)` and `Input(description=...)` make equal FieldInfos, but a
# Secret with an explicit None default is optional (as Cog's static parser reads it).
explicit_defaults, cog_input = set(), cog.Input


def recording_input(*args, **kwargs):
    field_info = cog_input(*args, **kwargs)
    if args or "default" in kwargs:
        explicit_defaults.add(id(field_info))
    return field_info


cog.Input = cog.input.Input = recording_input
# cog.streaming returns the function as it is: marked here instead, to put `x-cog-streaming` in the schema as Cog's
# static parser does for a function it decorates.
cog_streaming = cog.streaming


def marking_streaming(fn=None):
    def mark(inner):
        inner.__cog_streaming__ = True
        return cog_streaming(inner)

    return mark if fn is None else mark(fn)


cog.streaming = marking_streaming

ref, version = sys.argv[1], sys.argv[2]
file_name, class_name = ref.split(":", 1)
module_name = file_name[:-3].replace("/", ".") if file_name.endswith(".py") else file_name
info = create_predictor(module_name, class_name)
target = getattr(importlib.import_module(module_name), class_name)
method = _selected_predict_method(target, f"{module_name}.{class_name}")[1] if inspect.isclass(target) else target
parameters = inspect.signature(inspect.unwrap(method)).parameters


def title(name):
    return " ".join(part[:1].upper() + part[1:] for part in name.split("_"))


def number(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


properties, required, enums = {}, [], {}
for name, field in info.inputs.items():
    prop = {"x-order": field.order}
    declared = parameters[name].default if name in parameters else inspect.Parameter.empty
    accept = getattr(declared, "accept", None)
    if accept is not None and field.type.primitive not in (adt.PrimitiveType.PATH, adt.PrimitiveType.FILE):
        sys.exit(f"accept is only valid on Path or File inputs (parameter '{name}')")
    none_default = declared is None or (id(declared) in explicit_defaults and declared.default is None)
    optional = field.type.repetition in (adt.Repetition.OPTIONAL, adt.Repetition.OPTIONAL_REPEATED) or (
        field.type.primitive is adt.PrimitiveType.SECRET and field.type.repetition is adt.Repetition.REQUIRED
        and none_default)
    if field.choices:
        kind = field.type.primitive.json_type().get("type") or "string"
        enums[name] = {"title": name, "description": "An enumeration.", "enum": list(field.choices), "type": kind}
        prop["allOf"] = [{"$ref": f"#/components/schemas/{name}"}]
    else:
        prop["title"] = title(name)
        prop.update(field.type.json_type())
    declared_default = parameters[name].default is not inspect.Parameter.empty if name in parameters else False
    has_default = declared_default and (field.default is not None or optional)
    if has_default:
        prop["default"] = field.default
    elif not optional:
        required.append(name)
    if optional:
        prop["nullable"] = True
    for key, value in (("description", field.description), ("minimum", field.ge), ("maximum", field.le),
                       ("minLength", field.min_length), ("maxLength", field.max_length), ("pattern", field.regex)):
        if value is not None:
            prop[key] = number(value)
    if getattr(field, "deprecated", False):
        prop["deprecated"] = True
    if accept is not None:
        prop["x-cog-accept"] = accept
    properties[name] = prop



def output_schema():
    """cog's own, but a TypedDict gets its properties, as Cog's static parser writes them (cog serves it as a dict)."""
    returned = typing.get_type_hints(method).get("return")
    if not (sys.version_info >= (3, 10) and typing.is_typeddict(returned)):
        return info.output.json_type()
    props = {}
    for field_name, hint in typing.get_type_hints(returned).items():
        field_type = adt.FieldType.from_type(hint)
        props[field_name] = dict(field_type.json_type(), title=field_name.replace("_", " ").title())
        if field_type.repetition in (adt.Repetition.OPTIONAL, adt.Repetition.OPTIONAL_REPEATED):
            props[field_name]["nullable"] = True
    schema = {"title": "Output", "type": "object", "properties": props}
    required = [field_name for field_name in props if field_name in returned.__required_keys__]
    return dict(schema, required=required) if required else schema


streaming = getattr(inspect.unwrap(method), "__cog_streaming__", False) or getattr(method, "__cog_streaming__", False)
output = output_schema()
if streaming and output.get("x-cog-array-type") != "iterator":
    sys.exit("@streaming requires Iterator[...], AsyncIterator[...], ConcatenateIterator[...] or "
             "AsyncConcatenateIterator[...] return type")
input_schema = {"title": "Input", "type": "object", "properties": properties}
if required:
    input_schema["required"] = required
string = lambda t: {"title": t, "type": "string"}
timestamp = lambda t: {"title": t, "type": "string", "format": "date-time"}
ok = lambda schema=None: {"description": "Successful Response", "content": {"application/json": {"schema": schema or {}}}}
invalid = {"description": "Validation Error",
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
schemas = {
    "Input": input_schema,
    "Output": output,
    "PredictionRequest": {"title": "PredictionRequest", "type": "object",
                          "properties": {"id": string("Id"), "input": {"$ref": "#/components/schemas/Input"}}},
    "PredictionResponse": {"title": "PredictionResponse", "type": "object", "properties": {
        "input": {"$ref": "#/components/schemas/Input"}, "output": {"$ref": "#/components/schemas/Output"},
        "id": string("Id"), "version": string("Version"), "created_at": timestamp("Created At"),
        "started_at": timestamp("Started At"), "completed_at": timestamp("Completed At"), "status": string("Status"),
        "error": string("Error"), "logs": string("Logs"), "metrics": {"title": "Metrics", "type": "object"}}},
    "Status": {"title": "Status", "description": "An enumeration.", "type": "string",
               "enum": ["starting", "processing", "succeeded", "canceled", "failed"]},
    "HTTPValidationError": {"title": "HTTPValidationError", "type": "object", "properties": {
        "detail": {"title": "Detail", "type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}}},
    "ValidationError": {"title": "ValidationError", "type": "object", "required": ["loc", "msg", "type"], "properties": {
        "loc": {"title": "Location", "type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": string("Message"), "type": string("Error Type")}},
}
schemas.update(enums)
paths = {
    "/": {"get": {"summary": "Root", "operationId": "root__get", "responses": {"200": ok()}}},
    "/health-check": {"get": {"summary": "Healthcheck", "operationId": "healthcheck_health_check_get", "responses": {"200": ok()}}},
    "/predictions": {"post": {"summary": "Predict", "description": "Run a single prediction on the model",
                              "operationId": "predict_predictions_post",
                              "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictionRequest"}}}},
                              "responses": {"200": ok({"$ref": "#/components/schemas/PredictionResponse"}), "422": invalid}}},
    "/predictions/{prediction_id}/cancel": {"post": {
        "summary": "Cancel", "operationId": "cancel_predictions__prediction_id__cancel_post",
        "parameters": [{"required": True, "schema": {"title": "Prediction Id", "type": "string"}, "name": "prediction_id", "in": "path"}],
        "responses": {"200": ok(), "422": invalid}}},
}
if streaming:
    paths["/predictions"]["post"]["x-cog-streaming"] = True
print(json.dumps({"openapi": "3.0.2", "info": {"title": "Cog", "version": version}, "paths": paths,
                  "components": {"schemas": schemas}}, sort_keys=True, separators=(",", ":")), file=schema_out)
schema_out.flush()
