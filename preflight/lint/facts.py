"""What one Python file does, as far as the lint rules care: one AST walk, sites with line numbers."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from preflight.lint.import_facts import ImportFact, definitions, imports

TRAINERS = {"Trainer", "SFTTrainer", "GRPOTrainer"}
TRAINER_CONFIGS = TRAINERS | {"TrainingArguments", "SFTConfig", "GRPOConfig", "Seq2SeqTrainingArguments"}
UPLOAD_CALLS = {"upload_file", "upload_fileobj", "put_object", "push_to_hub", "log_artifact", "log_model", "put_file"}
S3_WRITERS = {"open", "put", "to_parquet", "to_csv", "to_json", "save", "upload"}
TRACKERS = {"wandb", "trackio", "tensorboard", "mlflow"}
READ_BACK = {"load_state_dict", "load_model", "load_checkpoint"}
_IGNORE = re.compile(r"#\s*preflight:\s*ignore\[([^\]]*)\]")


@dataclass
class Facts:
    path: str
    saves: list[tuple[int, str, bool]] = field(default_factory=list)  # line, what, is a checkpoint
    uploads: bool = False
    push_without_id: list[int] = field(default_factory=list)
    flash: list[int] = field(default_factory=list)
    entries: list[tuple[int, str]] = field(default_factory=list)
    tracking: bool = False
    reads_back: bool = False
    cuda: list[int] = field(default_factory=list)
    ignored: dict[int, set[str]] = field(default_factory=dict)
    syntax_error: str = ""
    # For the entry-point closure: imports anywhere, module-level names, `alias.attr` uses of imports.
    imports: list[ImportFact] = field(default_factory=list)
    defines: dict[str, int] = field(default_factory=dict)
    attrs: list[tuple[int, str, str]] = field(default_factory=list)
    shadowed: list[str] = field(default_factory=list)  # import aliases also assigned or used as parameters
    unreadable: str = ""  # why this file could not be linted (not a regular file, too large, nested too deeply)


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return ""


def _text(node: ast.AST) -> str:
    """Names and string constants inside a node, lowercased, to spot `ckpt` or `s3://` in arguments."""
    parts = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    parts += [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    return " ".join(parts).lower()


def _true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _string(node: ast.AST | None) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def _reports(node: ast.AST | None) -> bool:
    values = [node] if not isinstance(node, (ast.List, ast.Tuple)) else node.elts
    return any(_string(v).lower() in TRACKERS or _string(v).lower() == "all" for v in values)


class _Walker:
    """One pass of ast.walk: calls are judged where they are; loops are kept as line ranges, so that a
    save can be told to sit inside one without a visitor dispatch per node (the AST walk is most of
    the cost on a large project)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.loops: list[tuple[int, int]] = []
        self.aliases = {fact[4] for fact in facts.imports}
        self.attr_seen: set[tuple[str, str]] = set()

    def walk(self, tree: ast.AST) -> None:
        calls, shadow = [], set()
        for node in ast.walk(tree):
            kind = type(node)
            if kind is ast.Call:
                calls.append(node)
            elif kind in (ast.For, ast.While, ast.AsyncFor):
                self.loops.append((node.lineno, getattr(node, "end_lineno", node.lineno) or node.lineno))
            elif kind is ast.Attribute:
                self.attribute(node)
            elif (kind is ast.Name and type(node.ctx) is ast.Store and node.id in self.aliases) or \
                    (kind is ast.arg and node.arg in self.aliases):
                shadow.add(node.id if kind is ast.Name else node.arg)
            elif kind is ast.Assign and any(type(t) is ast.Subscript and dotted(t.value) == "sys.modules"
                                            for t in node.targets):
                self.facts.defines.setdefault("__getattr__", node.lineno)  # swapped for a lazy module
            elif kind is ast.Global:
                for name in node.names:
                    self.facts.defines.setdefault(name, node.lineno)
            elif kind is ast.Constant and isinstance(node.value, str) and "aws s3 " in node.value and \
                    ("aws s3 cp" in node.value or "aws s3 sync" in node.value):
                self.facts.uploads = True
        for call in calls:
            self.call(call)
        self.facts.shadowed = sorted(shadow)

    def attribute(self, node: ast.Attribute) -> None:
        """`alias.name` where alias is bound by an import: the closure checks name exists there."""
        value = node.value
        if type(value) is ast.Name and value.id in self.aliases and (value.id, node.attr) not in self.attr_seen:
            self.attr_seen.add((value.id, node.attr))
            self.facts.attrs.append((node.lineno, value.id, node.attr))

    def in_loop(self, line: int) -> bool:
        return any(start < line <= end for start, end in self.loops)

    def call(self, node: ast.Call) -> None:
        name, facts = dotted(node.func), self.facts
        last = name.rsplit(".", 1)[-1]
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        self._saves(node, name, last, kw)
        if last in UPLOAD_CALLS or name == "wandb.save" or _true(kw.get("push_to_hub")) or \
                (last in S3_WRITERS and any(_string(a).startswith("s3://") for a in node.args)):
            facts.uploads = True
        if _true(kw.get("push_to_hub")) and "hub_model_id" not in kw:
            facts.push_without_id.append(node.lineno)
        if _string(kw.get("attn_implementation")) == "flash_attention_2" or _true(kw.get("use_flash_attention_2")):
            facts.flash.append(node.lineno)
        self._training(name, last, kw, node.lineno)
        self._gpu(node, name, last, kw)

    def _saves(self, node: ast.Call, name: str, last: str, kw: dict[str, ast.AST]) -> None:
        saving = name in ("torch.save", "joblib.dump") or last in ("save_model", "save_pretrained") or \
            (name == "pickle.dump" and bool(node.args) and "model" in _text(node.args[0]))
        if saving:
            checkpoint = self.in_loop(node.lineno) or any(w in _text(node) for w in ("ckpt", "checkpoint"))
            self.facts.saves.append((node.lineno, name, checkpoint))
        elif last in TRAINER_CONFIGS and "output_dir" in kw:
            self.facts.saves.append((node.lineno, f"{last}(output_dir=...)", True))

    def _training(self, name: str, last: str, kw: dict[str, ast.AST], line: int) -> None:
        facts = self.facts
        receiver = name.rsplit(".", 1)[0].lower() if "." in name else ""
        if last in TRAINERS or last == "backward" or \
                (last in ("fit", "train") and any(w in receiver for w in ("model", "trainer", "booster", "clf"))):
            facts.entries.append((line, name))
        if name in ("wandb.init", "mlflow.start_run", "trackio.init") or _reports(kw.get("report_to")):
            facts.tracking = True
        if "resume_from_checkpoint" in kw or last in READ_BACK or \
                name in ("torch.load", "joblib.load", "pickle.load"):
            facts.reads_back = True

    def _gpu(self, node: ast.Call, name: str, last: str, kw: dict[str, ast.AST]) -> None:
        device = _string(kw.get("device")) or (_string(node.args[0]) if node.args and last in ("to", "device") else "")
        if (last == "cuda" and "." in name) or device.startswith("cuda"):
            self.facts.cuda.append(node.lineno)


def read(path: str, source: str) -> Facts:
    facts = Facts(path)
    for number, line in enumerate(source.splitlines() if "preflight:" in source else [], start=1):
        if (match := _IGNORE.search(line)):
            facts.ignored[number] = {rule.strip() for rule in match.group(1).split(",") if rule.strip()}
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError) as exc:
        facts.syntax_error = f"{type(exc).__name__}: {getattr(exc, 'msg', exc)} (line {getattr(exc, 'lineno', '?')})"
        return facts
    except (RecursionError, MemoryError) as exc:  # 3000 nested operators: Python's own parser gives up
        return Facts(path, ignored=facts.ignored, unreadable=f"nested too deeply to parse ({type(exc).__name__})")
    try:
        facts.imports = imports(tree)
        facts.defines = definitions(tree)
        _Walker(facts).walk(tree)
    except (RecursionError, MemoryError) as exc:  # a tree just under the parser's limit, deeper than ours
        return Facts(path, ignored=facts.ignored, unreadable=f"nested too deeply to read ({type(exc).__name__})")
    return facts


def unreadable(path: str, why: str) -> Facts:
    """The facts of a file that was not read at all: one info finding, nothing else."""
    return Facts(path, unreadable=why)
