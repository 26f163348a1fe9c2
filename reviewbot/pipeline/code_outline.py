"""What a source file defines, imports and uses, read with a real parser: Python's `ast`, tree-sitter for
JavaScript, TypeScript and Go (imported only when such a file is parsed). Other languages get an empty outline, and
the context builder falls back to plain line windows for them.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import posixpath
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tree_sitter import Language, Node, Parser, Tree

LANGUAGES = {".py": "python", ".pyi": "python", ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript",
             ".cjs": "javascript", ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
             ".go": "go"}
_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
# Names too common to be worth a look-up: they are defined everywhere, or by the language.
_COMMON = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset({
    "self", "cls", "this", "super", "console", "window", "document", "undefined", "null", "true", "false", "nil",
    "err", "ctx", "len", "make", "append", "new", "delete", "error", "string", "int", "bool", "byte", "rune",
    "Promise", "Array", "Object", "String", "Number", "Boolean", "JSON", "Math", "Date", "Error", "Map", "Set",
    "get", "set", "put", "add", "run", "main", "init", "then", "catch", "push", "map", "filter", "length", "data",
    "value", "key", "name", "id", "args", "kwargs", "result", "fmt", "log", "require", "exports", "module",
})


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    kind: str  # function, class, method, type, constant (a literal value), variable (state: a client, a dict, ...)
    start: int  # first line (decorators and `export` included), 1-based
    end: int  # last line
    sig_end: int  # last line of the signature (the header up to where the body starts)
    parent: str = ""  # enclosing class or receiver type


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # as written: "app.billing", ".models", "./db", "example.com/x/store"
    name: str = ""  # the imported name, or "" when the local name is the module itself
    level: int = 0  # Python relative-import level


@dataclass(frozen=True)
class Outline:
    language: str
    definitions: tuple[Definition, ...] = ()
    imports: dict[str, Import] = field(default_factory=dict)  # local name -> what it is
    parsed: bool = False


VALUES = frozenset({"constant", "variable"})  # definitions that hold a value rather than code


def language_of(path: str) -> str | None:
    return LANGUAGES.get(posixpath.splitext(path)[1].lower())


def is_interesting(name: str) -> bool:
    return len(name) >= 3 and name not in _COMMON


def outline(path: str, text: str) -> Outline:
    lang = language_of(path)
    if lang == "python":
        return _python_outline(text)
    if lang in ("javascript", "typescript", "tsx", "go"):
        parsed = _ts_parse(lang, text)
        if parsed is None:
            return Outline(lang)
        return _go_outline(parsed) if lang == "go" else _js_outline(lang, parsed)
    return Outline(lang or "text")


def references(path: str, text: str, lines: set[int]) -> list[tuple[str, str]]:
    """(qualifier, name) pairs used on `lines`, in order of first use: `billing.charge` gives ("billing", "charge")
    and ("", "billing"); a plain call `helper()` gives ("", "helper")."""
    lang = language_of(path)
    out: list[tuple[str, str]] = []
    if lang == "python":
        try:
            tree = _parse_python(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # hostile or broken source
            return []
        found = []
        for node in ast.walk(tree):
            line = getattr(node, "lineno", None)
            if line not in lines:
                continue
            if isinstance(node, ast.Name):
                found.append((line, node.col_offset, ("", node.id)))
            elif isinstance(node, ast.Attribute):
                base = node.value
                found.append((node.end_lineno or line, node.end_col_offset or 0,
                              (base.id if isinstance(base, ast.Name) else "", node.attr)))
        out = [pair for _, _, pair in sorted(found)]
    elif lang in ("javascript", "typescript", "tsx", "go"):
        parsed = _ts_parse(lang, text)
        if parsed is not None:
            out = _ts_references(lang, parsed, lines)
    seen, ordered = set(), []
    for pair in out:
        if pair not in seen:
            seen.add(pair)
            ordered.append(pair)
    return ordered


def resolve_module(imp: Import, importer: str, files: dict[str, str] | set[str], folders: set[str] | None = None
                   ) -> list[str]:
    """Repository files an import refers to (empty when it is outside the repository, e.g. a package)."""
    lang = language_of(importer)
    if lang == "python":
        if imp.level:
            base = posixpath.dirname(importer)
            for _ in range(imp.level - 1):
                base = posixpath.dirname(base)
            stem = posixpath.join(base, *imp.module.split(".")) if imp.module else base
            stems = [stem]
        else:
            rel = imp.module.replace(".", "/")
            stems = [rel, "src/" + rel]
        found = []
        for stem in stems:
            if imp.name:  # `from pkg import mod` names a module when pkg/mod.py exists
                for cand in (f"{stem}/{imp.name}.py", f"{stem}/{imp.name}/__init__.py"):
                    if cand in files:
                        return [cand]
            for cand in (f"{stem}.py", f"{stem}/__init__.py"):
                if cand in files:
                    found.append(cand)
        return found[:1]
    if lang in ("javascript", "typescript", "tsx"):
        if not imp.module.startswith("."):
            return []
        stem = posixpath.normpath(posixpath.join(posixpath.dirname(importer), imp.module))
        if stem in files:
            return [stem]
        base = stem.rsplit(".", 1)[0] if stem.endswith((".js", ".mjs", ".cjs")) else stem  # TS imports "./x.js"
        for ext in _JS_EXTENSIONS:
            for cand in (base + ext, f"{base}/index{ext}"):
                if cand in files:
                    return [cand]
        return []
    if lang == "go":
        parts = imp.module.strip("/").split("/")
        dirs = folders if folders is not None else {posixpath.dirname(p) for p in files}
        for i in range(len(parts)):  # the longest tail of the import path that is a folder here
            cand = "/".join(parts[i:])
            if cand in dirs:
                return sorted(p for p in files if posixpath.dirname(p) == cand and p.endswith(".go")
                              and not p.endswith("_test.go"))
        return []
    return []


def names_a_module(imp: Import, importer: str, files: dict[str, str] | set[str]) -> bool:
    """Whether `from pkg import name` imports the module pkg/name.py rather than a name defined in pkg."""
    if not imp.name or language_of(importer) != "python":
        return not imp.name
    module = resolve_module(imp, importer, files)
    return bool(module) and module[0].endswith((f"/{imp.name}.py", f"/{imp.name}/__init__.py")) and not any(
        module[0] == cand for cand in resolve_module(Import(imp.module, "", imp.level), importer, files))


# -- Python --------------------------------------------------------------------------------------------------

_AST_LOCK = threading.Lock()


def _parse_python(text: str) -> ast.Module:
    # CPython 3.11's AST builder keeps its recursion depth in shared state: two threads parsing at once (eval
    # plans cases in parallel) can fail with "SystemError: AST constructor recursion depth mismatch".
    with _AST_LOCK:
        return ast.parse(text)


def _python_outline(text: str) -> Outline:
    try:
        tree = _parse_python(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # hostile or broken source
        return Outline("python")
    defs: list[Definition] = []
    imports: dict[str, Import] = {}

    def visit(body: list[ast.stmt], parent: str, top: bool) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                first = node.body[0]
                if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                        and isinstance(first.value.value, str) and len(node.body) > 1):
                    first = node.body[1]  # keep the docstring with the signature
                    sig_end = first.lineno - 1
                else:
                    sig_end = max(node.lineno, first.lineno - 1)
                kind = "class" if isinstance(node, ast.ClassDef) else ("method" if parent else "function")
                defs.append(Definition(node.name, kind, start, node.end_lineno or node.lineno, sig_end, parent))
                visit(node.body, node.name, False)
            elif top and isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                state = isinstance(node.value, (ast.Call, ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp,
                                                ast.SetComp))
                for t in targets:
                    if isinstance(t, ast.Name):
                        end = node.end_lineno or node.lineno
                        defs.append(Definition(t.id, "variable" if state else "constant", node.lineno, end, end,
                                               parent))
            elif top and isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name != "*":
                        imports[alias.asname or alias.name] = Import(node.module or "", alias.name, node.level)
            elif top and isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    imports[local] = Import(alias.name if alias.asname else alias.name.split(".")[0])
            elif isinstance(node, (ast.If, ast.Try)) and top:  # `if TYPE_CHECKING:` and guarded imports
                visit(node.body, parent, True)

    visit(tree.body, "", True)
    return Outline("python", tuple(defs), imports, True)


# -- tree-sitter ---------------------------------------------------------------------------------------------


_PARSERS = threading.local()  # a tree-sitter Parser is not safe to share between threads


def _ts_parser(lang: str) -> Parser | None:
    parsers: dict[str, Parser | None] = _PARSERS.__dict__.setdefault("by_language", {})  # per thread, per language
    if lang not in parsers:
        language = _ts_language(lang)
        if language is None:
            parsers[lang] = None
        else:
            import tree_sitter

            parsers[lang] = tree_sitter.Parser(language)
    return parsers[lang]


@cache
def _ts_language(lang: str) -> Language | None:
    try:
        import tree_sitter
        if lang == "go":
            import tree_sitter_go

            language = tree_sitter_go.language()
        elif lang == "javascript":
            import tree_sitter_javascript

            language = tree_sitter_javascript.language()
        else:
            import tree_sitter_typescript

            language = (tree_sitter_typescript.language_tsx() if lang == "tsx"
                        else tree_sitter_typescript.language_typescript())
        return tree_sitter.Language(language)
    except (ImportError, ValueError, OSError):  # grammar missing or incompatible: plain-text fallback
        return None


def _ts_parse(lang: str, text: str) -> Tree | None:
    parser = _ts_parser(lang)
    if parser is None:
        return None
    return parser.parse(text.encode("utf-8", errors="surrogatepass"))


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text is not None else ""


def _lines(node: Node) -> tuple[int, int]:
    return node.start_point[0] + 1, node.end_point[0] + 1


def _js_outline(lang: str, tree: Tree) -> Outline:
    defs: list[Definition] = []
    imports: dict[str, Import] = {}

    def add(node: Node, outer: Node, kind: str, parent: str = "") -> None:
        name = node.child_by_field_name("name")
        if name is None:
            return
        body = node.child_by_field_name("body") or node.child_by_field_name("value")
        start, end = _lines(outer)
        sig_end = body.start_point[0] + 1 if body is not None else end
        defs.append(Definition(_text(name), kind, start, end, sig_end, parent))

    def walk(node: Node, outer: Node | None, parent: str, top: bool) -> None:
        t = node.type
        if t == "export_statement":
            for child in node.named_children:
                walk(child, node, parent, top)
            return
        if t in ("function_declaration", "generator_function_declaration"):
            add(node, outer or node, "function", parent)
        elif t in ("class_declaration", "abstract_class_declaration", "class"):
            add(node, outer or node, "class", parent)
            class_name = _text(node.child_by_field_name("name"))
            body = node.child_by_field_name("body")
            if body is not None:
                for member in body.named_children:
                    if member.type in ("method_definition", "method_signature", "abstract_method_signature"):
                        add(member, member, "method", class_name)
            return
        elif t in ("interface_declaration", "type_alias_declaration", "enum_declaration"):
            add(node, outer or node, "type", parent)
        elif t in ("lexical_declaration", "variable_declaration") and top:
            for decl in node.named_children:
                if decl.type != "variable_declarator":
                    continue
                value = decl.child_by_field_name("value")
                name = decl.child_by_field_name("name")
                if value is not None and value.type == "call_expression" and _text(
                        value.child_by_field_name("function")) == "require":
                    source = _string_value(value.child_by_field_name("arguments"))
                    if name is not None and name.type == "identifier" and source:
                        imports[_text(name)] = Import(source)
                    elif name is not None and source:
                        for child in name.named_children:
                            if child.type == "shorthand_property_identifier_pattern":
                                imports[_text(child)] = Import(source, _text(child))
                    continue
                kind = "function" if value is not None and value.type in ("arrow_function", "function_expression",
                                                                          "function") else "constant"
                if value is not None and value.type in ("new_expression", "call_expression", "object", "array"):
                    kind = "variable"
                add(decl, outer or node, kind, parent)
            return
        elif t == "import_statement":
            source = _string_value(node.child_by_field_name("source"))
            for clause in node.named_children:
                if clause.type != "import_clause":
                    continue
                for part in clause.named_children:
                    if part.type == "identifier":
                        imports[_text(part)] = Import(source, "default")
                    elif part.type == "namespace_import":
                        for ident in part.named_children:
                            imports[_text(ident)] = Import(source)
                    elif part.type == "named_imports":
                        for spec in part.named_children:
                            if spec.type == "import_specifier":
                                orig = spec.child_by_field_name("name")
                                alias = spec.child_by_field_name("alias")
                                imports[_text(alias or orig)] = Import(source, _text(orig))
            return
        if top and t == "program":
            for child in node.named_children:
                walk(child, None, parent, True)

    walk(tree.root_node, None, "", True)
    return Outline(lang, tuple(defs), imports, True)


def _string_value(node: Node | None) -> str:
    if node is None:
        return ""
    if node.type in ("string", "interpreted_string_literal", "raw_string_literal"):
        return _text(node).strip("'\"`")
    for child in node.named_children:
        value = _string_value(child)
        if value:
            return value
    return ""


def _go_outline(tree: Tree) -> Outline:
    defs: list[Definition] = []
    imports: dict[str, Import] = {}
    for node in tree.root_node.named_children:
        t = node.type
        if t in ("function_declaration", "method_declaration"):
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            start, end = _lines(node)
            parent = ""
            if t == "method_declaration":
                receiver = node.child_by_field_name("receiver")
                parent = _text(receiver).strip("()").split()[-1].lstrip("*") if receiver is not None else ""
            defs.append(Definition(_text(name), "method" if parent else "function", start, end,
                                   body.start_point[0] + 1 if body is not None else end, parent))
        elif t in ("type_declaration", "const_declaration", "var_declaration"):
            for spec in node.named_children:
                if spec.type in ("type_spec", "type_alias", "const_spec", "var_spec"):
                    start, end = _lines(spec if len(node.named_children) > 1 else node)
                    for name in spec.children_by_field_name("name"):
                        kind = {"type_declaration": "type", "var_declaration": "variable"}.get(t, "constant")
                        defs.append(Definition(_text(name), kind, start, end, min(end, start + 0), ""))
        elif t == "import_declaration":
            for spec in _descendants(node, "import_spec"):
                path = _string_value(spec.child_by_field_name("path"))
                alias = spec.child_by_field_name("name")
                local = _text(alias) if alias is not None else path.rsplit("/", 1)[-1]
                if local not in ("_", "."):
                    imports[local] = Import(path)
    return Outline("go", tuple(defs), imports, True)


def _descendants(node: Node, kind: str) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == kind:
            yield n
        stack.extend(reversed(n.named_children))


_TS_NAME_NODES = frozenset({"identifier", "property_identifier", "type_identifier", "field_identifier",
                            "shorthand_property_identifier", "package_identifier"})


def _ts_references(lang: str, tree: Tree, lines: set[int]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    member = "selector_expression" if lang == "go" else "member_expression"
    obj_field, prop_field = ("operand", "field") if lang == "go" else ("object", "property")
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        first, last = node.start_point[0] + 1, node.end_point[0] + 1
        if last < min(lines, default=0) or first > max(lines, default=0):
            continue
        if node.type == member and first in lines:
            obj, prop = node.child_by_field_name(obj_field), node.child_by_field_name(prop_field)
            if obj is not None and prop is not None:
                out.append((_text(obj) if obj.type in ("identifier", "package_identifier", "this") else "",
                            _text(prop)))
        elif node.type == "qualified_type" and first in lines:  # Go: store.Order
            pkg, name = node.child_by_field_name("package"), node.child_by_field_name("name")
            if pkg is not None and name is not None:
                out.append((_text(pkg), _text(name)))
        elif node.type in _TS_NAME_NODES and first in lines:
            parent = node.parent
            if parent is None or parent.type not in (member, "qualified_type") or node == parent.child_by_field_name(
                    obj_field):
                out.append(("", _text(node)))
        stack.extend(reversed(node.children))
    return out
