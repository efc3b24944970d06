"""The FHIRPath shapes pathway conditions use, compiled once into Python closures that give fhirpathpy's
results without its interpreter.

fhirpathpy walks its parse tree anew on every evaluation, through dictionaries of evaluators and
``ResourceNode`` wrappers; a pathway evaluates dozens of conditions per hook call, most of them sharing
sub-expressions (``%conditions.where(code.memberOf(red-flags))`` appears in nearly every action). Here:

- ``compile_closure`` turns a parsed expression into a closure when every node is of a shape handled
  here: variables, literals (string, integer, boolean), member access, ``$this`` inside a criteria,
  ``where``, ``exists``, ``empty``, ``not``, ``memberOf`` and ``startsWith`` with a string literal, ``=``,
  ``<``, ``<=``, ``>``, ``>=``, ``and``, ``or`` and ``|``. Any other expression is left to fhirpathpy (None).
- A closure follows fhirpathpy's own rules, quirks included (both operands of ``and``/``or`` are
  evaluated; ``=`` on two collections of the same length compares their first items; member access
  resolves choice types such as ``medication`` to ``medicationCodeableConcept`` through the same R4
  model tables). Where the data is of a kind whose handling differs in detail (decimals, primitive
  extensions, ``null`` items, comparisons across types, a non-boolean where-criteria), it raises
  ``Unsupported`` at evaluation time and the caller evaluates the expression with fhirpathpy instead,
  so a result is never a guess.
- Sub-expressions that do not read the focus (they start at a ``%variable`` or a literal) are computed
  once per ``Evaluation`` and shared by every condition evaluated in it.

``tests/pathways/test_fhirpath_closures.py`` proves identical results to fhirpathpy on every shipped
condition over the sample patients, and on generated data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fhirpathpy.engine.evaluators import evaluators as library_evaluators
from fhirpathpy.engine.util import uniq
from fhirpathpy.models import models

_R4 = models["r4"]
_PATHS_DEFINED_ELSEWHERE: Mapping[str, str] = _R4["pathsDefinedElsewhere"]
_CHOICE_TYPE_PATHS: Mapping[str, list[str]] = _R4["choiceTypePaths"]
_PATH_TO_TYPE: Mapping[str, str] = _R4["path2Type"]
_PRIMITIVES = (str, int, bool)
_UCUM = "http://unitsofmeasure.org"

Node = Mapping[str, Any]
Collection = list[object]
MemberOf = Callable[[list[object], str], list[bool]]


class Unsupported(Exception):
    """This data is not handled here; evaluate the expression with fhirpathpy."""


@dataclass(slots=True)
class _Navigated:
    """An item reached by member access, with its FHIR type path (fhirpathpy's ResourceNode)."""

    data: object
    path: str | None


@dataclass
class Evaluation:
    """Everything one evaluation reads: the context resource, the variables and ``memberOf``; and the
    results of focus-free sub-expressions computed so far, shared by the conditions evaluated in it."""

    resource: Mapping[str, Any]
    variables: Mapping[str, object]
    member_of: MemberOf
    memo: dict[str, Collection] = field(default_factory=dict)

    def variable(self, name: str) -> object:
        if name in self.variables:
            return self.variables[name]
        if name == "context":
            return self.resource
        if name == "ucum":
            return _UCUM
        raise Unsupported(f"undefined variable {name}")


Closure = Callable[[Evaluation, Collection], Collection]
"""``(evaluation, focus) -> collection``."""


@dataclass(frozen=True)
class _Compiled:
    run: Closure
    key: str
    """A canonical text of the sub-expression: equal keys, equal results in one Evaluation."""
    focus_free: bool


class _NotCompiled(Exception):
    pass


def compile_closure(parsed: Mapping[str, Any]) -> Closure | None:
    """A closure for the expression parsed by fhirpathpy (``parse(text)``), or None when some part of
    it is not a shape handled here."""
    try:
        compiled = _compile(parsed["children"][0], in_criteria=False)
    except (_NotCompiled, KeyError, IndexError, TypeError):
        return None
    return compiled.run


def run_closure(closure: Closure, evaluation: Evaluation) -> list[bool]:
    """The closure's result on the context resource; ``Unsupported`` unless it is a list of booleans
    (anything else is left to fhirpathpy, whose result conversion applies)."""
    result = closure(evaluation, [evaluation.resource])
    if all(type(item) is bool for item in result):
        return [item for item in result if type(item) is bool]
    raise Unsupported("result is not a list of booleans")


# --- compilation -------------------------------------------------------------------------------------


def _children(node: Node) -> list[Node]:
    children: list[Node] = node.get("children") or []
    return children


def _terminal(node: Node) -> str:
    texts = node.get("terminalNodeText") or []
    if len(texts) != 1:
        raise _NotCompiled("operator expected")
    text: str = texts[0]
    return text


def _compile(node: Node, *, in_criteria: bool) -> _Compiled:
    kind = node.get("type")
    compiler = _COMPILERS.get(kind) if isinstance(kind, str) else None
    if compiler is None:
        raise _NotCompiled(f"no closure for {kind}")
    compiled = compiler(node, in_criteria)
    return _memoised(compiled) if compiled.focus_free and kind in _COMPUTING else compiled


def _memoised(compiled: _Compiled) -> _Compiled:
    run, key = compiled.run, compiled.key

    def memoised(evaluation: Evaluation, focus: Collection) -> Collection:
        known = evaluation.memo.get(key)
        if known is None:
            known = run(evaluation, focus)
            evaluation.memo[key] = known
        return known

    return _Compiled(memoised, key, True)


def _only_child(node: Node, in_criteria: bool) -> _Compiled:
    children = _children(node)
    if len(children) != 1:
        raise _NotCompiled("one child expected")
    return _compile(children[0], in_criteria=in_criteria)


def _external_constant(node: Node, _in_criteria: bool) -> _Compiled:
    (constant,) = _children(node)
    (identifier,) = _children(constant)
    if identifier.get("type") != "Identifier":
        raise _NotCompiled("only %identifier variables")
    name = _identifier(identifier)

    def variable(evaluation: Evaluation, _focus: Collection) -> Collection:
        value = evaluation.variable(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    return _Compiled(variable, f"%{name}", True)


def _identifier(node: Node) -> str:
    text = node.get("text")
    if not isinstance(text, str):
        raise _NotCompiled("identifier without text")
    if text.startswith('"'):
        text = text[1:]
    if text.endswith('"'):
        text = text[:-1]
    return text.replace("`", "")


def _literal(node: Node, _in_criteria: bool) -> _Compiled:
    (term,) = _children(node)
    kind = term.get("type")
    if kind == "StringLiteral":
        value: object = library_evaluators["StringLiteral"](None, None, term)[0]
    elif kind == "BooleanLiteral":
        value = term.get("text") == "true"
    elif kind == "NumberLiteral":
        value = library_evaluators["NumberLiteral"](None, None, term)[0]
        if type(value) is not int:
            raise _NotCompiled("only integer literals")
    else:
        raise _NotCompiled(f"no closure for {kind}")
    constant: Collection = [value]
    return _Compiled(lambda _evaluation, _focus: constant, f"{kind}:{value!r}", True)


def _invocation_term(node: Node, in_criteria: bool) -> _Compiled:
    (invocation,) = _children(node)
    kind = invocation.get("type")
    if kind == "ThisInvocation":
        if not in_criteria:
            raise _NotCompiled("$this outside a criteria")
        return _Compiled(lambda _evaluation, focus: focus, "$this", False)
    step = _step(invocation)
    return _Compiled(lambda evaluation, focus: step(evaluation, focus), f"focus.{step.key}", False)


def _invocation_expression(node: Node, in_criteria: bool) -> _Compiled:
    first, invocation = _children(node)
    head = _compile(first, in_criteria=in_criteria)
    step = _step(invocation)
    head_run = head.run

    def chain(evaluation: Evaluation, focus: Collection) -> Collection:
        return step(evaluation, head_run(evaluation, focus))

    return _Compiled(chain, f"{head.key}.{step.key}", head.focus_free)


@dataclass(frozen=True)
class _Step:
    """A member access or function call applied to a collection."""

    apply: Callable[[Evaluation, Collection], Collection]
    key: str

    def __call__(self, evaluation: Evaluation, collection: Collection) -> Collection:
        return self.apply(evaluation, collection)


def _step(invocation: Node) -> _Step:
    kind = invocation.get("type")
    if kind == "MemberInvocation":
        (identifier,) = _children(invocation)
        key = _identifier(identifier)
        if key[0] == key[0].upper():
            raise _NotCompiled("type names filter by resourceType")
        return _Step(lambda _evaluation, collection: _member(collection, key), key)
    if kind == "FunctionInvocation":
        return _function(invocation)
    raise _NotCompiled(f"no closure for {kind}")


def _function(invocation: Node) -> _Step:
    (functn,) = _children(invocation)
    parts = _children(functn)
    name = _identifier(parts[0])
    params = _children(parts[1]) if len(parts) > 1 else []
    if name in ("empty", "not", "exists") and not params:
        function = {"empty": _empty, "not": _not, "exists": _exists}[name]
        return _Step(lambda _evaluation, collection: function(collection), f"{name}()")
    if name in ("where", "exists") and len(params) == 1:
        criteria = _compile(params[0], in_criteria=True)
        keep = _where_with(criteria.run)
        if name == "where":
            return _Step(keep, f"where({criteria.key})")
        return _Step(
            lambda evaluation, collection: [bool(keep(evaluation, collection))], f"exists({criteria.key})"
        )
    if name == "memberOf" and len(params) == 1:
        value_set = _string_literal(params[0])
        return _Step(
            lambda evaluation, collection: _member_of(evaluation, collection, value_set),
            f"memberOf({value_set!r})",
        )
    if name == "startsWith" and len(params) == 1:
        prefix = _string_literal(params[0])
        return _Step(
            lambda _evaluation, collection: _starts_with(collection, prefix), f"startsWith({prefix!r})"
        )
    raise _NotCompiled(f"no closure for {name}()")


def _string_literal(node: Node) -> str:
    """The value of a parameter that is a string literal term."""
    if node.get("type") != "TermExpression":
        raise _NotCompiled("a string literal parameter expected")
    (literal,) = _children(node)
    if literal.get("type") != "LiteralTerm":
        raise _NotCompiled("a string literal parameter expected")
    (term,) = _children(literal)
    if term.get("type") != "StringLiteral":
        raise _NotCompiled("a string literal parameter expected")
    value: str = library_evaluators["StringLiteral"](None, None, term)[0]
    return value


def _binary(node: Node, in_criteria: bool) -> tuple[_Compiled, _Compiled]:
    left, right = _children(node)
    return _compile(left, in_criteria=in_criteria), _compile(right, in_criteria=in_criteria)


def _operator(
    symbols: Mapping[str, Callable[[Collection, Collection], Collection]],
) -> Callable[[Node, bool], _Compiled]:
    def compile_operator(node: Node, in_criteria: bool) -> _Compiled:
        symbol = _terminal(node)
        operation = symbols.get(symbol)
        if operation is None:
            raise _NotCompiled(f"no closure for {symbol}")
        left, right = _binary(node, in_criteria)
        left_run, right_run = left.run, right.run

        def operate(evaluation: Evaluation, focus: Collection) -> Collection:
            # Both sides are evaluated, as fhirpathpy does (an error on either side is an error).
            return operation(left_run(evaluation, focus), right_run(evaluation, focus))

        key = f"({left.key} {symbol} {right.key})"
        return _Compiled(operate, key, left.focus_free and right.focus_free)

    return compile_operator


# --- semantics (fhirpathpy's, see the module docstring) ----------------------------------------------


def _item_data(item: object) -> object:
    return item.data if isinstance(item, _Navigated) else item


def _node(data: object, path: str) -> _Navigated:
    if isinstance(data, dict) and "resourceType" in data:
        resource_type = data["resourceType"]
        if not isinstance(resource_type, str):
            raise Unsupported("resourceType is not a string")
        return _Navigated(data, resource_type)
    return _Navigated(data, path)


def _path_of(item: object) -> str | None:
    data = _item_data(item)
    if isinstance(data, dict) and "resourceType" in data:
        resource_type = data["resourceType"]
        if not isinstance(resource_type, str):
            raise Unsupported("resourceType is not a string")
        return resource_type
    return item.path if isinstance(item, _Navigated) else None


def _member(collection: Collection, key: str) -> Collection:
    found: Collection = []
    for item in collection:
        data = _item_data(item)
        if not isinstance(data, dict):
            if isinstance(data, list | str | int | bool):
                if key == "length":
                    raise Unsupported("length of a value")
                continue
            raise Unsupported(f"member of a {type(data).__name__}")
        path = _path_of(item)
        child_path = f"{path}.{key}" if path else f"_.{key}"
        child_path = _PATHS_DEFINED_ELSEWHERE.get(child_path, child_path)
        value: object = None
        extension: object = None
        types = _CHOICE_TYPE_PATHS.get(child_path)
        if types:
            for suffix in types:
                value, extension = data.get(f"{key}{suffix}"), data.get(f"_{key}{suffix}")
                if value is not None or extension is not None:
                    child_path += suffix
                    break
        else:
            value, extension = data.get(key), data.get(f"_{key}")
            if key == "extension":
                child_path = "Extension"
        if extension is not None and extension != []:
            raise Unsupported("primitive extensions")
        child_path = _PATH_TO_TYPE.get(child_path, child_path)
        if value is None or value == []:
            continue
        if isinstance(value, list):
            for element in value:
                if element is None:
                    raise Unsupported("null item")
                found.append(_node(element, child_path))
        else:
            found.append(_node(value, child_path))
    return found


def _where_with(criteria: Closure) -> Callable[[Evaluation, Collection], Collection]:
    def where(evaluation: Evaluation, collection: Collection) -> Collection:
        kept: Collection = []
        for item in collection:
            if isinstance(item, list) or item is None:
                raise Unsupported("nested collection")
            result = criteria(evaluation, [item])
            # fhirpathpy keeps an item when the criteria's first result is truthy, and a navigated item
            # (a ResourceNode) is truthy whatever it holds.
            if result and (isinstance(result[0], _Navigated) or result[0]):
                kept.append(item)
        return kept

    return where


def _exists(collection: Collection) -> Collection:
    return [bool(collection)]


def _empty(collection: Collection) -> Collection:
    return [not collection]


def _not(collection: Collection) -> Collection:
    if len(collection) != 1:
        return []
    value = _item_data(collection[0])
    # fhirpathpy: a single non-boolean item counts as true.
    return [not value] if type(value) is bool else [False]


def _starts_with(collection: Collection, prefix: str) -> Collection:
    if not collection:
        return []  # fhirpathpy: empty input gives empty
    text = _item_data(collection[0])
    if len(collection) != 1 or not isinstance(text, str):
        raise Unsupported("startsWith() of anything but one string")
    return [bool(text) and text.startswith(prefix)]


def _member_of(evaluation: Evaluation, collection: Collection, value_set: str) -> Collection:
    inputs = [_item_data(item) for item in collection]
    if any(isinstance(value, float) for value in inputs):
        raise Unsupported("decimal input")
    return list(evaluation.member_of(inputs, value_set))


def _primitive(item: object) -> object:
    value = _item_data(item)
    if type(value) not in _PRIMITIVES:
        raise Unsupported("not a string, integer or boolean")
    if isinstance(item, _Navigated) and item.path == "Quantity":
        raise Unsupported("a Quantity-typed primitive")
    return value


def _equal(left: Collection, right: Collection) -> Collection:
    if not left or not right:
        return []
    if len(left) != len(right):
        return [False]
    a, b = _primitive(left[0]), _primitive(right[0])
    if type(a) is not type(b):
        raise Unsupported("equality across types")
    return [a == b]


def _comparison(compare: Callable[[Any, Any], bool]) -> Callable[[Collection, Collection], Collection]:
    def compare_singletons(left: Collection, right: Collection) -> Collection:
        if not left or not right:
            return []
        if len(left) != 1 or len(right) != 1:
            raise Unsupported("comparison of collections")
        a, b = _item_data(left[0]), _item_data(right[0])
        if type(a) is type(b) and type(a) in (int, str):
            return [compare(a, b)]
        raise Unsupported("comparison of other types")

    return compare_singletons


def _boolean_operand(collection: Collection) -> bool | None:
    """fhirpathpy's Boolean parameter: None for empty, else the single boolean."""
    if not collection:
        return None
    if len(collection) != 1:
        raise Unsupported("several items")
    value = _item_data(collection[0])
    if type(value) is not bool:
        raise Unsupported("not a boolean")
    return value


def _and(left: Collection, right: Collection) -> Collection:
    a, b = _boolean_operand(left), _boolean_operand(right)
    if a is False or b is False:
        return [False]
    if a is None or b is None:
        return []
    return [True]


def _or(left: Collection, right: Collection) -> Collection:
    a, b = _boolean_operand(left), _boolean_operand(right)
    if a is True or b is True:
        return [True]
    if a is None or b is None:
        return []
    return [False]


def _union(left: Collection, right: Collection) -> Collection:
    combined = left + right
    navigated = [isinstance(item, _Navigated) for item in combined]
    if all(navigated):
        # fhirpathpy re-creates the nodes from their data: only a resource keeps its type.
        return [_node_without_path(data) for data in _distinct([_item_data(item) for item in combined])]
    if any(navigated):
        raise Unsupported("union of navigated and variable items")
    return _distinct(combined)


def _distinct(items: Collection) -> Collection:
    """fhirpathpy's own de-duplication (by JSON text), so that the same items are kept."""
    unique: Collection = uniq(items)  # type: ignore[no-untyped-call]
    return unique


def _node_without_path(data: object) -> _Navigated:
    if isinstance(data, dict) and "resourceType" in data:
        return _node(data, "")
    return _Navigated(data, None)


_COMPUTING = frozenset(
    {
        "InvocationExpression",
        "EqualityExpression",
        "InequalityExpression",
        "AndExpression",
        "OrExpression",
        "UnionExpression",
    }
)
"""The node kinds whose focus-free results are worth keeping (not terms, variables or literals)."""

_COMPILERS: dict[str, Callable[[Node, bool], _Compiled]] = {
    "TermExpression": _only_child,
    "ParenthesizedTerm": _only_child,
    "ExternalConstantTerm": _external_constant,
    "LiteralTerm": _literal,
    "InvocationTerm": _invocation_term,
    "InvocationExpression": _invocation_expression,
    "EqualityExpression": _operator({"=": _equal}),
    "InequalityExpression": _operator(
        {
            "<": _comparison(lambda a, b: a < b),
            "<=": _comparison(lambda a, b: a <= b),
            ">": _comparison(lambda a, b: a > b),
            ">=": _comparison(lambda a, b: a >= b),
        }
    ),
    "AndExpression": _operator({"and": _and}),
    "OrExpression": _operator({"or": _or}),
    "UnionExpression": _operator({"|": _union}),
}
