# Prints the OpenAPI schema of a Cog predictor without importing it: the predictor's source is read with `ast` and its
# types are interpreted as cog's own inspector does (cog._inspector and cog._adt of cog 0.22 and 0.23), so the
# output is byte for byte what openapi_schema.py prints. Same arguments (PREDICTOR_REF as file.py:Name, and the cog CLI
# version), run in /src. Whatever cannot be decided from the source alone (a call, a name imported from another module,
# an unknown decorator or base class, a type or constraint cog rejects...) ends it with exit status 3 and the reason on
# stderr; the caller then runs the import-based openapi_schema.py, which also reports cog's own errors. What Cog's own
# static parser refuses (accept= on an input that is no file, a type imported from a module it cannot read) ends it
# with exit status 4 and the reason on stderr: the build fails there, as Cog's does.
# Standard library only, Python 3.8 to 3.13; neither the user's code nor cog is imported. Run on the host before a
# build (to check inputs first, as Cog does), COG_SCHEMA_PYTHON (3.12) and COG_SCHEMA_COG (0.23.1) name the image's
# Python and cog, which the host's need not be.
import ast, builtins, json, operator, os, re, sys

# cog releases whose inspector this mirrors: 0.21 lacks cog.concurrent and Input(accept=), 0.20 rejects unions,
# < 0.20 cannot run openapi_schema.py at all. Outside this range the script falls back.
VERIFIED_COG = ((0, 22), (0, 23))
BOOL, FLOAT, INT, STR, PATH, FILE, SECRET, ANY = "bool", "float", "int", "str", "Path", "File", "Secret", "Any"
REQ, OPT, REP, OPT_REP = "required", "optional", "repeated", "optional repeated"  # cog._adt.Repetition
NONE = ("none",)
# A type is ("prim", P), ("list", elem), ("dict",), ("iter", elem), ("concat", elem) (elem None when bare),
# ("union", members), ("opaque", inner) for Annotated[T, Opaque] or ("model", ClassDef) for a cog BaseModel.
TYPES = {name: t for names, t in (
    ("builtins.str typing.Text", ("prim", STR)), ("builtins.int", ("prim", INT)), ("builtins.float", ("prim", FLOAT)),
    ("builtins.bool", ("prim", BOOL)), ("cog.File", ("prim", FILE)), ("cog.Secret", ("prim", SECRET)),
    ("cog.Path cog.URLPath pathlib.Path pathlib.PosixPath pathlib.PurePath pathlib.PurePosixPath os.PathLike",
     ("prim", PATH)), ("typing.Any", ("prim", ANY)), ("builtins.list typing.List", ("list", None)),
    ("builtins.dict typing.Dict", ("dict",)), ("typing.Iterator typing.AsyncIterator", ("iter", None)),
    ("cog.ConcatenateIterator cog.AsyncConcatenateIterator", ("concat", None))) for name in names.split()}
ARITY = dict({n: 1 for n in TYPES if TYPES[n][0] in ("list", "iter", "concat")},
             **{"typing.Optional": 1, "typing.Dict": 2, "builtins.dict": 2})
COG_NAMES = ("BaseRunner BasePredictor BaseModel Opaque Input FieldInfo Path Secret File URLFile URLPath "
             "ConcatenateIterator AsyncConcatenateIterator current_scope streaming concurrent").split()
SUBMODULES = {"cog.types", "cog.input", "cog.model", "cog.predictor", "collections.abc", "os.path"}
FRAMEWORK = {"cog.BasePredictor": ["cog.BasePredictor", "cog.BaseRunner", "object"],
             "cog.BaseRunner": ["cog.BaseRunner", "object"], "builtins.object": ["object"]}
INPUT_ARGS = "default default_factory description ge le min_length max_length regex choices deprecated accept".split()
BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_target = re.match(r"(\d+)\.(\d+)", os.environ.get("COG_SCHEMA_PYTHON", ""))
PYTHON = (int(_target.group(1)), int(_target.group(2))) if _target else sys.version_info[:2]  # the image's Python
DYNAMIC = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)

class Fallback(Exception):
    pass

class Refusal(Exception):
    """What Cog's own static parser refuses: the build fails with the reason (exit status 4), no fallback."""

def fail(reason):
    raise Fallback(reason)

def symbol(module, name):
    """The canonical name of `name` imported from `module`: ("symbol", ...), or ("ext", ...) for any other module."""
    if module in ("typing", "typing_extensions") or (module == "collections.abc" and name.endswith("Iterator")):
        return ("symbol", "typing." + name)
    if module == "cog" or module.startswith("cog."): return ("symbol", "cog." + name)
    return ("symbol" if module in ("pathlib", "os", "builtins") else "ext", module + "." + name)

class Scope:
    """The names a module's or a class's body binds: name -> [(line, condition, meaning)], where a meaning is
    ("module", m), ("symbol", s), ("ext", s), ("value", expr), ("class", node), ("func", node) or ("dynamic", why),
    and condition is None at the top level, "try" inside try/except and "if" inside any other block."""

    def __init__(self, body, module=None, outer=None):
        self.names, self.stars, self.mutated, self.future = {}, [], set(), False
        self.module, self.outer = module or self, outer  # outer: the module's Env, seen from a class body
        self.collect(body, None)

    def bind(self, name, line, cond, meaning):
        self.names.setdefault(name, []).append((line, cond, meaning))

    def target(self, node, line, cond, meaning):
        if isinstance(node, ast.Name):
            self.bind(node.id, line, cond, meaning)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            self.mutated.add(node.value.id)  # Predictor.predict = ... changes what the import sees
        elif not isinstance(node, ast.Subscript):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name):
                    self.bind(sub.id, line, cond, ("dynamic", "bound by unpacking"))

    def collect(self, body, cond):
        for st in body:
            line = st.lineno
            if isinstance(st, ast.Import):
                for a in st.names:
                    top = a.name.split(".")[0]
                    self.bind(a.asname or top, line, cond, ("module", a.name if a.asname else top))
            elif isinstance(st, ast.ImportFrom) and st.module == "__future__":
                self.future |= any(a.name == "annotations" for a in st.names)
            elif isinstance(st, ast.ImportFrom):
                module = "." * st.level + (st.module or "")
                for a in st.names:
                    if a.name != "*":
                        self.bind(a.asname or a.name, line, cond, symbol(module, a.name))
                    elif module in ("typing", "cog"):
                        for name in (COG_NAMES if module == "cog" else __import__("typing").__all__):
                            self.bind(name, line, cond, symbol(module, name))
                    else:
                        self.stars.append((line, module))
            elif isinstance(st, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                self.bind(st.name, line, cond, ("class" if isinstance(st, ast.ClassDef) else "func", st))
            elif isinstance(st, (ast.Assign, ast.AnnAssign)):
                for t in getattr(st, "targets", [getattr(st, "target", None)]):
                    if st.value is not None or not isinstance(t, ast.Name):  # `x: int` alone binds nothing
                        self.target(t, line, cond, ("value", st.value))
            elif isinstance(st, ast.AugAssign):
                self.target(st.target, line, cond, ("dynamic", "changed by an augmented assignment"))
            elif isinstance(st, DYNAMIC):
                for header in [getattr(st, "target", None)] + [i.optional_vars for i in getattr(st, "items", [])]:
                    if header is not None:
                        self.target(header, line, cond, ("dynamic", "bound by a for or with statement"))
                for h in getattr(st, "handlers", []):
                    if h.name:
                        self.bind(h.name, line, cond, ("dynamic", "bound by an except clause"))
                for block in [st.body, getattr(st, "orelse", []), getattr(st, "finalbody", [])] + [
                        h.body for h in getattr(st, "handlers", [])]:
                    self.collect(block, cond or ("try" if isinstance(st, ast.Try) else "if"))
            else:  # anything else that binds a name (match, del, a walrus...) leaves it unknown
                for sub in ast.walk(st):
                    name = sub.id if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load) else None
                    name = name or (None if isinstance(sub, ast.alias) else getattr(sub, "name", None))
                    if isinstance(name, str):
                        self.bind(name, line, cond, ("dynamic", "bound by a %s statement" % type(st).__name__))

    def find(self, name, limit):
        """The meaning of `name` for code that runs before line `limit` (None: once the whole body has run)."""
        entries = [e for e in self.names.get(name, []) if limit is None or e[0] < limit]
        if not entries: return None
        for _, _, meaning in entries:
            if meaning[0] == "dynamic": fail("%s is %s" % (name, meaning[1]))
        key = lambda m: (m[0], ast.dump(m[1]) if isinstance(m[1], ast.AST) else m[1])
        same, conds = all(key(e[2]) == key(entries[0][2]) for e in entries), {e[1] for e in entries}
        if None in conds and (same or conds == {None}):  # the last top-level binding wins
            line, _, meaning = max((e for e in entries if e[1] is None), key=lambda e: e[0])
        elif same and len(entries) > 1 and conds == {"try"}:  # try: import X / except ImportError: import X
            line, _, meaning = entries[-1]
        else: fail("%s is bound conditionally" % name)
        return meaning + (Env(self, line),) if meaning[0] == "value" else meaning

class Env:
    """Name lookup at a point of a body: its own scope before line `limit`, then the module's, then builtins."""

    def __init__(self, scope, limit):
        self.scope, self.limit = scope, limit

    def lookup(self, name):
        meaning = self.scope.find(name, self.limit)
        if meaning is not None: return meaning
        if self.scope.outer is not None: return self.scope.outer.lookup(name)
        if any(self.limit is None or line < self.limit for line, _ in self.scope.stars):
            fail("%s may come from a `from ... import *`" % name)
        if name not in vars(builtins): fail("%s is not defined (at import time)" % name)
        return ("symbol", "builtins." + name)

def resolve(node, env):
    """What a Name or dotted Attribute refers to, through aliases (X = Y); None for any other expression."""
    if isinstance(node, ast.Name):
        meaning = env.lookup(node.id)
    elif isinstance(node, ast.Attribute):
        base = resolve(node.value, env)
        if base is None or base[0] != "module": fail("cannot follow the attribute .%s statically" % node.attr)
        full = base[1] + "." + node.attr
        meaning = ("module", full) if full in SUBMODULES else symbol(base[1], node.attr)
    else: return None
    return (resolve(meaning[1], meaning[2]) if meaning[0] == "value" else None) or meaning

def describe(meaning):
    what = getattr(meaning[1], "name", str(meaning[1]))
    return {"ext": "%s from another module", "class": "class %s", "func": "function %s"}.get(meaning[0], "%s") % what

def value(node, env, depth=0):
    """The value of a default, constraint or constant: literals, simple arithmetic and names bound to those."""
    if depth > 50: fail("constant nested too deeply")
    if isinstance(node, ast.Constant) and node.value is not Ellipsis: return node.value
    if isinstance(node, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in node.elts):
        items = [value(e, env, depth + 1) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {value(k, env, depth + 1): value(v, env, depth + 1) for k, v in zip(node.keys, node.values)}
    number = lambda v: isinstance(v, (int, float))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        v = value(node.operand, env, depth + 1)
        if isinstance(node.op, ast.Not) or number(v):
            return not v if isinstance(node.op, ast.Not) else -v if isinstance(node.op, ast.USub) else +v
    if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
        a, b = value(node.left, env, depth + 1), value(node.right, env, depth + 1)
        if (number(a) and number(b) and not (isinstance(node.op, ast.Pow) and abs(b) > 256)) or (
                isinstance(a, str) and isinstance(b, str) and isinstance(node.op, ast.Add)):
            try:
                return BINOPS[type(node.op)](a, b)
            except (ArithmeticError, ValueError):
                pass
    if isinstance(node, (ast.Name, ast.Attribute)):
        meaning = env.lookup(node.id) if isinstance(node, ast.Name) else resolve(node, env)
        if meaning[0] != "value": fail("%s is not a constant" % describe(meaning))
        return value(meaning[1], meaning[2], depth + 1)
    fail("the %s at line %d is evaluated at import time" % (type(node).__name__, node.lineno))

def union(members):
    flat = []  # typing flattens nested unions and drops duplicates; a one-member union is that member
    for m in members:
        flat += [x for x in (m[1] if m[0] == "union" else (m,)) if x not in flat]
    return flat[0] if len(flat) == 1 else ("union", tuple(flat))

def typ(node, env):
    """The type an annotation denotes, non-Opaque Annotated[] metadata stripped, as cog's inspector sees it."""
    if isinstance(node, ast.Constant) and node.value is None: return NONE
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # get_type_hints evaluates it after the import
        try:
            expr = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            fail("annotation %r is not an expression" % node.value)
        return typ(expr, Env(env.scope.module, None))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        if PYTHON < (3, 10): fail("X | Y needs Python 3.10")
        return union([typ(node.left, env), typ(node.right, env)])
    if isinstance(node, ast.Subscript):
        base = resolve(node.value, env) or ("?", "subscripted expression")
        name = base[1] if base[0] == "symbol" else None
        args = node.slice.value if isinstance(node.slice, getattr(ast, "Index", ())) else node.slice  # 3.8
        args = args.elts if isinstance(args, ast.Tuple) else [args]
        if name in ("builtins.list", "builtins.dict") and PYTHON < (3, 9):
            fail("%s[...] needs Python 3.9" % name)
        if ARITY.get(name, len(args)) != len(args): fail("%s takes %d type arguments" % (name, ARITY[name]))
        if name == "typing.Annotated" and len(args) >= 2:
            for meta in args[1:]:
                if not isinstance(meta, ast.Constant) and resolve(meta, env) == ("symbol", "cog.Opaque"):
                    try:
                        return ("opaque", typ(args[0], env))
                    except Refusal:  # an opaque type is never read: wherever it comes from, it is JSON
                        return ("opaque", ("ext",))
                if not isinstance(meta, (ast.Constant, ast.Name, ast.Attribute)):
                    fail("Annotated metadata at line %d is computed" % node.lineno)
            return typ(args[0], env)
        if TYPES.get(name) == ("dict",): return ("dict",)
        inner = [typ(a, env) for a in args]
        if name in ("typing.Optional", "typing.Union"):
            return union(inner + [NONE] if name == "typing.Optional" else inner)
        if name in TYPES and TYPES[name][0] in ("list", "iter", "concat"): return (TYPES[name][0], inner[0])
        fail("unsupported generic type %s" % describe(base))
    meaning = resolve(node, env)
    if meaning is None: fail("unsupported annotation at line %d" % node.lineno)
    if meaning[0] == "ext": imported_type(meaning[1])
    if meaning[0] == "symbol" and meaning[1] in TYPES: return TYPES[meaning[1]]
    if meaning[0] == "value":  # a type alias (Images = List[Path])
        return typ(meaning[1], meaning[2])
    if meaning[0] == "class" and model_chain(meaning[1], env.scope.module): return ("model", meaning[1])
    if meaning[0] == "class" and typeddict_chain(meaning[1], env.scope.module): return ("typeddict", meaning[1])
    fail("unsupported type %s" % describe(meaning))

def imported_type(full):
    """A type from another module: Cog's static parser reads the project's own .py modules, nothing else (a package's
    __init__.py, an installed module), and fails the build there; this script falls back for the ones it reads."""
    module, _, name = full.rpartition(".")
    if module.startswith(".") or os.path.isfile(module.replace(".", "/") + ".py"):
        fail("type %s comes from another module" % full)
    raise Refusal("cannot resolve type '%s' (imported from '%s'): a schema is read from the project's own .py files, "
                  "without importing them; define %s in the predictor's file (as a cog BaseModel), or, for a "
                  "JSON-shaped type, annotate it as Annotated[%s, Opaque] (from typing and cog)" % (name, module, name,
                                                                                                   name))

def typeddict_chain(cls, module, depth=0):
    """[base, ..., cls] when cls is a TypedDict (class syntax, single inheritance within this file), else None."""
    if depth > 20 or len(cls.bases) != 1 or cls.decorator_list or any(k.arg != "total" for k in cls.keywords):
        return None
    base = resolve(cls.bases[0], Env(module, cls.lineno))
    if base in (("symbol", "typing.TypedDict"),): return [cls]
    chain = typeddict_chain(base[1], module, depth + 1) if base[0] == "class" else None
    return chain + [cls] if chain else None

def typeddict_output(cls, module):
    """A TypedDict output's properties, as Cog's static parser writes them: cog itself serves it as a dict."""
    properties, key_required = {}, {}
    for c in typeddict_chain(cls, module):
        total = True
        for k in c.keywords:
            total = value(k.value, Env(module, c.lineno))
            if type(total) is not bool: fail("TypedDict %s: total is not True or False" % c.name)
        env = Env(module, None) if module.future else Env(Scope(c.body, module, Env(module, c.lineno)), None)
        for st in c.body:
            if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) and st.value is None:
                node, key_required[st.target.id] = st.annotation, total
                wrapper = resolve(node.value, env) if isinstance(node, ast.Subscript) else None
                if wrapper in (("symbol", "typing.NotRequired"), ("symbol", "typing.Required")):
                    node = node.slice.value if isinstance(node.slice, getattr(ast, "Index", ())) else node.slice
                    key_required[st.target.id] = wrapper[1] == "typing.Required"
                ft = field_type(typ(node, env))
                properties[st.target.id] = dict(field_json(ft), title=st.target.id.replace("_", " ").title(),
                                                **({"nullable": True} if ft[1] in (OPT, OPT_REP) else {}))
            elif not (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)) and not isinstance(st, ast.Pass):
                fail("TypedDict %s: a statement other than a field" % c.name)
    required = [name for name in properties if key_required[name]]
    return dict({"title": "Output", "type": "object", "properties": properties},
                **({"required": required} if required else {}))

def model_chain(cls, module, depth=0):
    """[base, ..., cls] when cls is a cog BaseModel subclass (single inheritance within this file), else None."""
    if depth > 20 or len(cls.bases) != 1 or cls.keywords or cls.decorator_list: return None
    base = resolve(cls.bases[0], Env(module, cls.lineno))
    if base == ("symbol", "cog.BaseModel"): return [cls]
    chain = model_chain(base[1], module, depth + 1) if base[0] == "class" else None
    return chain + [cls] if chain else None

def field_type(t):
    """cog._adt.FieldType.from_type: (primitive, repetition, union variants or None); what cog rejects falls back."""
    if t[0] == "typeddict": return (ANY, REQ, None)  # cog reads a TypedDict as a dict
    kind, members = t[0], [m for m in t[1] if m != NONE] if t[0] == "union" else []
    if kind == "opaque":  # _opaque_field_type
        optional = t[1][0] == "union" and len(t[1][1]) == 2 and NONE in t[1][1]
        inner = [m for m in t[1][1] if m != NONE][0] if optional else t[1]
        return (ANY, (OPT_REP if optional else REP) if inner[0] == "list" else OPT if optional else REQ, None)
    if kind in ("dict", "prim"): return (ANY if kind == "dict" else t[1], REQ, None)
    if kind == "list": return list_type(t[1], REP)
    if kind == "union" and len(members) != 1:
        variants = [field_type(m) for m in members]
        if any(v[2] is not None or v[0] in (PATH, FILE, SECRET) or v[1] not in (REQ, REP) for v in variants):
            fail("unsupported union member")
        return (ANY, OPT if len(members) < len(t[1]) else REQ, variants)
    if kind == "union":  # Optional[X]
        elem = members[0]
        if elem[0] == "opaque": return field_type(("opaque", union([elem[1], NONE])))
        if elem[0] == "list": return list_type(elem[1], OPT_REP)
        if elem[0] in ("dict", "prim"): return (ANY if elem[0] == "dict" else elem[1], OPT, None)
    fail("unsupported Cog type (%s)" % kind)

def list_type(elem, repetition):
    if elem is not None and elem[0] not in ("opaque", "dict", "prim"):
        fail("List cannot have nested or custom type %s" % elem[0])
    return (elem[1] if elem and elem[0] == "prim" else ANY, repetition, None)

def norm_prim(prim, v):
    """cog._adt.PrimitiveType.normalize, for a default or a choice."""
    if prim == ANY: return v
    if prim in (PATH, FILE, SECRET):
        fail("a %s default becomes an object that openapi_schema.py cannot serialise" % prim)
    pt = {BOOL: bool, FLOAT: float, INT: int, STR: str}[prim]
    try:
        result = pt(v)
    except (TypeError, ValueError, OverflowError):
        fail("default %r is not a valid %s" % (v, prim))
    if result != v and not (isinstance(v, str) and pt in (int, float)) and not (isinstance(v, int) and pt is float):
        fail("failed to normalize %r as %s" % (v, prim))
    return result

PRIORITY = {BOOL: 0, INT: 1, FLOAT: 2, STR: 3, ANY: 4}
ACCEPTS = {BOOL: lambda v: type(v) is bool, INT: lambda v: type(v) is int, STR: lambda v: type(v) is str,
           FLOAT: lambda v: type(v) in (float, int), ANY: lambda v: isinstance(v, dict)}
EXACT = {BOOL: lambda v: isinstance(v, bool), INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
         FLOAT: lambda v: isinstance(v, float), STR: lambda v: isinstance(v, str), ANY: lambda v: isinstance(v, dict)}

def normalize(ft, v):
    """cog._adt.FieldType.normalize; a union tries its members in cog's order."""
    prim, rep, variants = ft
    if variants is not None and not (v is None and rep == OPT):
        order = sorted(enumerate(variants), key=lambda iv: (
            not (isinstance(v, list) if iv[1][1] == REP else EXACT[iv[1][0]](v)),
            PRIORITY[iv[1][0]] + (10 if iv[1][1] == REP else 0), iv[0]))
        for _, var in order:
            if (isinstance(v, list) and all(ACCEPTS[var[0]](x) for x in v)) if var[1] == REP else ACCEPTS[var[0]](v):
                try:
                    return normalize(var, v)
                except Fallback:
                    pass
        fail("default %r matches no member of the union" % (v,))
    if v is None and rep in (OPT, OPT_REP): return None
    if rep in (REQ, OPT): return norm_prim(prim, v)
    if not isinstance(v, (list, tuple, str, dict)): fail("default %r of a list input is not iterable" % (v,))
    return [norm_prim(prim, x) for x in v]

def check_constraints(ft, info):
    """cog._inspector._validate_input_constraints: what it rejects falls back (and fails the import-based run)."""
    prim, rep, d = ft[0], ft[1], info["default"]
    defaults = [] if d is None else normalize(ft, d) if rep in (REP, OPT_REP) else [normalize(ft, d)]
    ge, le, min_length, max_length, regex, choices = (info[k] for k in INPUT_ARGS[3:9])
    try:  # (no assert: python -O would skip it)
        ok = (ge is None and le is None) or prim in (FLOAT, INT) and all(
            (ge is None or x >= ge) and (le is None or x <= le) for x in defaults)
        ok = ok and ((min_length is None and max_length is None) or prim == STR and all(
            (min_length is None or len(x) >= min_length) and (max_length is None or len(x) <= max_length)
            for x in defaults))
        ok = ok and (regex is None or prim == STR and all(re.compile(regex).match(x) for x in defaults))
        ok = ok and (choices is None or prim in (INT, STR) and len(choices) >= 2 and (
            ge, le, min_length, max_length) == (None,) * 4 and all(
            {bool: BOOL, int: INT, float: FLOAT, str: STR}.get(type(c)) == prim for c in choices))
    except (TypeError, re.error):
        ok = False
    if not ok: fail("cog rejects the Input() constraints or the default of this input")

def input_info(call, env):
    """The FieldInfo that cog.Input(...) returns, as a dict."""
    if len(call.args) > 1 or any(isinstance(a, ast.Starred) for a in call.args):
        fail("Input() takes one positional argument")
    info = dict(dict.fromkeys(INPUT_ARGS), given=set())
    for name, node in [("default", a) for a in call.args] + [(kw.arg, kw.value) for kw in call.keywords]:
        if name not in INPUT_ARGS or (name == "default" and call.args and node is not call.args[0]):
            fail("Input() does not take %s" % (name or "**kwargs"))
        info[name] = value(node, env)
        info["given"].add(name)
    if info["default_factory"] is not None: fail("Input() rejects default_factory")
    return info

def prim_json(prim):
    jt = {"type": {BOOL: "boolean", FLOAT: "number", INT: "integer", ANY: "object"}.get(prim, "string")}
    if prim in (PATH, FILE):
        jt["format"] = "uri"
    elif prim == SECRET:
        jt.update({"format": "password", "writeOnly": True, "x-cog-secret": True})
    return jt

def field_json(ft):
    prim, rep, variants = ft
    if variants is not None:
        return dict({"anyOf": [field_json(v) for v in variants]}, **({"nullable": True} if rep == OPT else {}))
    return {"type": "array", "items": prim_json(prim)} if rep in (REP, OPT_REP) else prim_json(prim)

def output_json(t, module, stdout):
    """cog._inspector._create_output_type(...).json_type()."""
    if t == ("prim", ANY):  # cog warns about Any while openapi_schema.py runs; that goes to stderr, not the schema
        return {"title": "Output"}
    if t[0] == "typeddict":
        return typeddict_output(t[1], module)
    if t[0] == "model":
        fields = {}  # base classes first, as typing.get_type_hints orders them
        for cls in model_chain(t[1], module):
            scope = Scope(cls.body, module, Env(module, cls.lineno))
            for st in cls.body:
                if not isinstance(st, ast.AnnAssign) and any(isinstance(n, ast.AnnAssign) for n in ast.walk(st)):
                    fail("output class %s declares fields inside a block" % cls.name)
                if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
                    if isinstance(st.value, (ast.List, ast.Dict, ast.Set, ast.Call)):
                        fail("output field %s: a mutable or computed dataclass default" % st.target.id)
                    env = Env(module, None) if module.future else Env(scope, st.lineno)
                    fields[st.target.id] = (field_type(typ(st.annotation, env)), st.value is not None)
        defaults = [has_default for _, has_default in fields.values()]
        if True in defaults and False in defaults[defaults.index(True):]:
            fail("output class: a field without a default follows one with a default (dataclass TypeError)")
        properties = {name: dict(field_json(ft), title=name.replace("_", " ").title(),
                                 **({"nullable": True} if ft[1] in (OPT, OPT_REP) else {}))
                      for name, (ft, _) in fields.items()}
        required = [name for name, (ft, _) in fields.items() if ft[1] not in (OPT, OPT_REP)]
        return dict({"title": "Output", "type": "object", "properties": properties},
                    **({"required": required} if required else {}))
    if t[0] in ("iter", "concat"):
        if t[1] is None: fail("iterator type must have a type argument")
        ft = field_type(t[1])
        if ft[1] != REQ or (t[0] == "concat" and ft[0] != STR): fail("unsupported iterator element type")
        jt = {"title": "Output", "type": "array", "items": prim_json(ft[0]), "x-cog-array-type": "iterator"}
        return dict(jt, **({"x-cog-array-display": "concatenate"} if t[0] == "concat" else {}))
    ft = field_type(t)  # an Opaque output is ANY, single or list, like the rest
    if ft[1] in (OPT, OPT_REP): fail("output must not be Optional")
    items = prim_json(ft[0])
    return dict({"title": "Output"}, **(items if ft[1] == REQ else {"type": "array", "items": items}))

def check_decorators(fn, env):
    """Whether cog.streaming marks the function (SSE clients accepted)."""
    streaming = False
    for d in fn.decorator_list:  # cog.streaming and cog.concurrent return the function itself
        meaning = resolve(d.func if isinstance(d, ast.Call) else d, env)
        streaming = streaming or meaning == ("symbol", "cog.streaming")
        if meaning not in (("symbol", "cog.streaming"), ("symbol", "cog.concurrent")):
            fail("%s() has a decorator that may change its signature" % fn.name)
        if isinstance(d, ast.Call):
            if d.args or any(kw.arg != "max" for kw in d.keywords) or (meaning[1] == "cog.streaming" and d.keywords):
                fail("unexpected arguments to the decorator on %s()" % fn.name)
            limit = value(d.keywords[0].value, env) if d.keywords else 1
            if type(limit) is not int or limit < 1 or (limit > 1 and not isinstance(fn, ast.AsyncFunctionDef)):
                fail("cog rejects concurrent(max=%r) on %s()" % (limit, fn.name))
    return streaming

def find_method(cls, module):
    """The class's MRO (C3), cog's setup() check, and the run or predict it selects (_selected_predict_method)."""
    def linearize(c, seen):
        if c in seen or c.decorator_list or c.keywords:
            fail("class %s: decorated, has keywords or a cyclic base" % c.name)
        parents = []
        for b in c.bases or [ast.Name(id="object", ctx=ast.Load())]:
            m = resolve(b, Env(module, c.lineno))
            if m[0] == "symbol" and m[1] in FRAMEWORK:
                parents.append(FRAMEWORK[m[1]])
            elif m[0] == "class":
                parents.append(linearize(m[1], seen + (c,)))
            else: fail("class %s: base %s is not a class of this file" % (c.name, describe(m)))
        seqs, result = [list(p) for p in parents] + [[p[0] for p in parents]], [c]
        while any(seqs):
            head = next((s[0] for s in seqs if s and not any(s[0] in o[1:] for o in seqs)), None)
            if head is None: fail("class %s: inconsistent MRO" % c.name)
            result.append(head)
            seqs = [s[1:] if s and s[0] is head else s for s in seqs]
        return result

    def owner(name):  # the first def of `name` in the MRO before cog's own classes, with its class's scope
        for c in mro:
            if isinstance(c, str): return None
            scope = Scope(c.body, module, Env(module, c.lineno))
            entries = scope.names.get(name, [])
            if any(cond or m[0] != "func" for _, cond, m in entries): fail("%s.%s is not a plain def" % (c.name, name))
            if entries: return entries[-1][2][1], Env(scope, entries[-1][2][1].lineno)

    mro = linearize(cls, ())
    setup = owner("setup")  # (BaseRunner.setup is valid; a class without cog bases and setup is not checked)
    if setup:
        fn, a = setup[0], setup[0].args
        check_decorators(fn, setup[1])
        params = [p.arg for p in getattr(a, "posonlyargs", []) + a.args]
        returns = fn.returns
        if params[:1] != ["self"] or set(params[:len(params) - len(a.defaults)]) - {"self", "weights"} or \
                a.vararg or a.kwarg or a.kwonlyargs or not (
                returns is None or isinstance(returns, ast.Constant) and returns.value in (None, "None")):
            fail("cog rejects %s.setup()" % cls.name)
    found = [m for m in (owner("run"), owner("predict")) if m]
    if len(found) != 1: fail("%s must define exactly one of run() and predict()" % cls.name)
    return found[0]

def input_property(order, param, node, env, hints_env):
    """One input's property as openapi_schema.py writes it, its enum schema (choices) or None, and whether required."""
    if param.annotation is None: fail("missing type annotation for input: %s" % param.arg)
    t, info, raw = typ(param.annotation, hints_env), None, None
    if isinstance(node, ast.Call) and resolve(node.func, env) == ("symbol", "cog.Input"):
        info = input_info(node, env)
    elif node is not None:
        raw = value(node, env)
        if raw is None and PYTHON < (3, 11):
            t = union([t, NONE])  # before 3.11, get_type_hints makes `x: T = None` Optional[T]
    ft = field_type(t)
    if info is not None and info["accept"] is not None:  # Cog's static parser refuses it on other types
        if ft[0] not in (PATH, FILE):
            raise Refusal("accept is only valid on Path or File inputs (parameter '%s')" % param.arg)
        if not isinstance(info["accept"], str): fail("accept of %s is not a string" % param.arg)
    # A Secret with an explicit None default is optional (Cog's static parser), unlike `seed: int = Input(default=None)`
    none_default = node is not None and (raw is None if info is None else "default" in info["given"] and
                                         info["default"] is None)
    secret_none = ft[0] == SECRET and ft[1] == REQ and none_default
    default, meta = (None if raw is None else normalize(ft, raw)), dict.fromkeys(INPUT_ARGS)
    if info is not None:  # cog._inspector._create_input_field
        check_constraints(ft, info)
        meta = dict(info, ge=None if info["ge"] is None else float(info["ge"]),
                    le=None if info["le"] is None else float(info["le"]),
                    choices=None if info["choices"] is None else [norm_prim(ft[0], c) for c in info["choices"]])
        default = None if info["default"] is None else normalize(ft, info["default"])
    # from here on as in openapi_schema.py
    prop, optional, enum = {"x-order": order}, ft[1] in (OPT, OPT_REP) or secret_none, None
    if meta["choices"]:
        enum = {"title": param.arg, "description": "An enumeration.", "enum": list(meta["choices"]),
                "type": prim_json(ft[0]).get("type") or "string"}
        prop["allOf"] = [{"$ref": "#/components/schemas/%s" % param.arg}]
    else:
        prop["title"] = " ".join(part[:1].upper() + part[1:] for part in param.arg.split("_"))
        prop.update(field_json(ft))
    if node is not None and (default is not None or optional):
        prop["default"] = default
    if optional:
        prop["nullable"] = True
    for key, v in zip(("description", "minimum", "maximum", "minLength", "maxLength", "pattern"),
                      (meta[k] for k in INPUT_ARGS[2:8])):
        if v is not None:
            prop[key] = int(v) if isinstance(v, float) and v.is_integer() else v
    if meta["deprecated"]:
        prop["deprecated"] = True
    if meta["accept"] is not None:
        prop["x-cog-accept"] = meta["accept"]
    return prop, enum, not optional and "default" not in prop

def schema(ref, version):
    file_name, _, name = ref.partition(":")
    if not name or not file_name.endswith(".py") or not all(p.isidentifier() for p in file_name[:-3].split("/")):
        fail("predictor reference %r is not path/module.py:Name" % ref)
    top = file_name[:-3].split("/")[0]  # a module of that name imported before the predictor would be used instead
    if top in sys.builtin_module_names or top in getattr(sys, "stdlib_module_names", ()) or top in ("cog", "coglet"):
        fail("%s is also the name of a module that may already be imported" % top)
    try:
        with open(file_name, "rb") as f:
            tree = ast.parse(f.read(), file_name)
    except (OSError, SyntaxError, ValueError) as e:
        fail("cannot read %s: %s" % (file_name, e))
    module = Scope(tree.body)
    if any(isinstance(n, (ast.Global, ast.Nonlocal)) and set(n.names) & set(module.names) for n in ast.walk(tree)):
        fail("a function rebinds module names with `global`")
    entries = module.names.get(name, [])
    if len(entries) != 1 or entries[0][1] is not None or entries[0][2][0] not in ("class", "func"):
        fail("%s is not a single class or def at the top of %s" % (name, file_name))
    if name in module.mutated: fail("%s is modified after its definition" % name)
    target = entries[0][2][1]
    is_class = isinstance(target, ast.ClassDef)
    fn, env = find_method(target, module) if is_class else (target, Env(module, target.lineno))
    streaming = check_decorators(fn, env)
    a = fn.args  # cog._inspector._validate_run_or_predict and _create_predictor_info
    params = getattr(a, "posonlyargs", []) + a.args
    if a.vararg or a.kwarg or a.kwonlyargs or (is_class and [p.arg for p in params[:1]] != ["self"]):
        fail("cog rejects the parameters of %s()" % fn.name)
    if fn.returns is None or isinstance(fn.returns, ast.Constant) and fn.returns.value in (None, "None"):
        fail("%s() must have a return type annotation" % fn.name)
    names = params[1:] if is_class else params
    if len(a.defaults) > len(names): fail("self has a default")
    hints_env = Env(module, None) if module.future else env  # with PEP 563, get_type_hints after the import
    defaults = [None] * (len(names) - len(a.defaults)) + a.defaults
    properties, required, enums = {}, [], {}
    for order, (param, node) in enumerate(zip(names, defaults)):
        properties[param.arg], enum, is_required = input_property(order, param, node, env, hints_env)
        required += [param.arg] if is_required else []
        enums.update({param.arg: enum} if enum else {})
    stdout = []
    output = output_json(typ(fn.returns, hints_env), module, stdout)
    if streaming and output.get("x-cog-array-type") != "iterator":
        raise Refusal(STREAMING_NEEDS_ITERATOR)
    input_schema = dict({"title": "Input", "type": "object", "properties": properties},
                        **({"required": required} if required else {}))
    return "\n".join(stdout + [document(input_schema, output, enums, version, streaming)])

STREAMING_NEEDS_ITERATOR = ("@streaming requires Iterator[...], AsyncIterator[...], ConcatenateIterator[...] or "
                            "AsyncConcatenateIterator[...] return type")

def document(input_schema, output, enums, version, streaming):
    """The whole document, exactly as openapi_schema.py builds it; `x-cog-streaming` on the predictions operation
    when the function is marked cog.streaming (coglet accepts SSE clients only then)."""
    string = lambda t: {"title": t, "type": "string"}
    timestamp = lambda t: {"title": t, "type": "string", "format": "date-time"}
    ok = lambda s=None: {"description": "Successful Response", "content": {"application/json": {"schema": s or {}}}}
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
            "started_at": timestamp("Started At"), "completed_at": timestamp("Completed At"),
            "status": string("Status"), "error": string("Error"), "logs": string("Logs"),
            "metrics": {"title": "Metrics", "type": "object"}}},
        "Status": {"title": "Status", "description": "An enumeration.", "type": "string",
                   "enum": ["starting", "processing", "succeeded", "canceled", "failed"]},
        "HTTPValidationError": {"title": "HTTPValidationError", "type": "object", "properties": {
            "detail": {"title": "Detail", "type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}}},
        "ValidationError": {"title": "ValidationError", "type": "object", "required": ["loc", "msg", "type"],
                            "properties": {"loc": {"title": "Location", "type": "array", "items": {
                                "anyOf": [{"type": "string"}, {"type": "integer"}]}},
                                "msg": string("Message"), "type": string("Error Type")}},
    }
    schemas.update(enums)
    request = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictionRequest"}}}}
    paths = {
        "/": {"get": {"summary": "Root", "operationId": "root__get", "responses": {"200": ok()}}},
        "/health-check": {"get": {"summary": "Healthcheck", "operationId": "healthcheck_health_check_get",
                                  "responses": {"200": ok()}}},
        "/predictions": {"post": {"summary": "Predict", "description": "Run a single prediction on the model",
                                  "operationId": "predict_predictions_post", "requestBody": request,
                                  "responses": {"200": ok({"$ref": "#/components/schemas/PredictionResponse"}),
                                                "422": invalid}}},
        "/predictions/{prediction_id}/cancel": {"post": {
            "summary": "Cancel", "operationId": "cancel_predictions__prediction_id__cancel_post",
            "parameters": [{"required": True, "schema": {"title": "Prediction Id", "type": "string"},
                            "name": "prediction_id", "in": "path"}],
            "responses": {"200": ok(), "422": invalid}}},
    }
    if streaming:
        paths["/predictions"]["post"]["x-cog-streaming"] = True
    return json.dumps({"openapi": "3.0.2", "info": {"title": "Cog", "version": version}, "paths": paths,
                       "components": {"schemas": schemas}}, sort_keys=True, separators=(",", ":"))

def main():
    if len(sys.argv) != 3:
        sys.exit("usage: openapi_schema_static.py PREDICTOR_REF VERSION")
    try:
        from importlib.metadata import version  # reads cog's dist-info; does not import cog
        try:
            installed = os.environ.get("COG_SCHEMA_COG") or version("cog")
        except Exception:
            fail("cannot read the version of the installed cog package")
        m = re.match(r"(\d+)\.(\d+)\.\d+$", installed)
        if not m or not VERIFIED_COG[0] <= (int(m.group(1)), int(m.group(2))) <= VERIFIED_COG[1]:
            fail("cog %s: this script mirrors the inspector of cog 0.%d to 0.%d" % (
                installed, VERIFIED_COG[0][1], VERIFIED_COG[1][1]))
        print(schema(sys.argv[1], sys.argv[2]))
    except Refusal as e:
        sys.stderr.write("%s\n" % e)
        sys.exit(4)
    except Exception as e:  # Fallback, or a case this script did not foresee: the import-based script decides
        reason = str(e) if isinstance(e, Fallback) else "unexpected %s: %s" % (type(e).__name__, e)
        sys.stderr.write("static schema: %s\n" % reason)
        sys.exit(3)

if __name__ == "__main__":
    main()
