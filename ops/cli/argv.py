"""The task words invoke cannot read as we need them, read first: the one place the command line is rewritten.

invoke parses its core options, then loads the task tree (`inv` imports
tasks.py; `cfw-remedy`'s Program builds it in ``parse_collection``), then parses
the task words against that tree. Three things our command line needs are beyond
its parser, so ``rewrite`` settles them in between, with the tree at hand:

1. **A word a task may take or not.** invoke's positional arguments are required,
   and one still waiting takes `--help` as its word. `journal.show [RUN]`,
   `incident.report [RUN]` and `sandbox.break [SCENARIO]` declare their word as
   a flag (`--run`, `--scenario`); the first bare word among their flags becomes
   that flag, so `inv sandbox.break --help` is help and `inv journal.show` works.
2. **Several paths.** invoke has no variadic positional; every bare word after
   `specs.check` becomes one more `--paths` (an ``iterable`` flag).
3. **Free text that looks like a flag.** A flag that takes a value takes the next
   word, whatever it is (`--message "--force"`, `--message "--"`, `--message -x`,
   `--message=--force`). invoke's parser reads a word that is one of the task's
   own flags as that flag, and `--` as the start of its remainder; only those
   values are taken out of the command line and given to the task as that flag's
   default, in a copy of the task (``invoke.tasks.Task``) whose signature says so.
   Every other value is left to invoke.

Under `inv`, tasks.py is imported after the core options are parsed, and the
task words wait in ``invoke.main.program.core.unparsed`` (what followed a `--`
in ``program.argv``); ``ops.cli.namespace.tasks_namespace`` hands that program
here, and ``rewrite`` is the only code that reads or changes its words.
Which remediations to compile in full is read from the same command line
(``named``), so `inv --list` compiles none.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, Sequence

from invoke.collection import Collection
from invoke.parser.context import ParserContext
from invoke.program import Program
from invoke.tasks import Task

__all__ = ["POSITIONAL", "named", "read", "rewrite"]

# The task, and the flag its bare words become; specs.check takes any number of them.
POSITIONAL = {"specs.check": "--paths", "incident.report": "--run", "journal.show": "--run", "journal.rejudge": "--run",
              "remediate.promote": "--version", "sandbox.break": "--scenario"}
VARIADIC = {"specs.check"}


def named(argv: Sequence[str]) -> list[str]:
    """Every word of the command line that names a remediation (`--help remediate.x` included)."""
    return [word for word in argv if word.startswith("remediate.")]


def rewrite(program: Program, ns: Collection) -> None:
    """Settle the task words of ``program`` (core options parsed, tasks not yet) against ``ns``, in place."""
    core: Any = getattr(program, "core", None)
    unparsed = getattr(core, "unparsed", None)
    if not isinstance(unparsed, list):
        return
    words, given = read(_task_words(list(program.argv), unparsed), _contexts(ns, unparsed, program.argv))
    body, ddash, rest = _split(words)
    unparsed[:] = [*body, *ddash, *rest]
    core.remainder = " ".join(rest)
    for name, values in given.items():
        _give(ns, name, values)


def read(words: list[str], contexts: dict[str, ParserContext]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The words for invoke's parser, and the values it would misread, by task and argument name."""
    out: list[str] = []
    given: dict[str, dict[str, Any]] = {}
    context: ParserContext | None = None
    word_taken = False
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            return [*out, *words[i - 1:]], given
        arg = _value_flag(word, context)
        if context is not None and arg is not None:
            name, eq, value = word.partition("=")
            if not eq:
                if i == len(words):
                    out.append(word)  # invoke says the value is missing
                    continue
                value, i = words[i], i + 1
            task = str(context.name)
            word_taken = word_taken or name == POSITIONAL.get(task)
            if value == "--" or value in context.flags or value in context.inverse_flags:
                _keep(given.setdefault(task, {}), arg, value)
            else:
                out += [name, value]
            continue
        if word in contexts and not word.startswith("-"):
            context, word_taken = contexts[word], False
        elif context is not None and context.name in POSITIONAL and not word.startswith("-") and (
                not word_taken or context.name in VARIADIC):
            out.append(POSITIONAL[context.name])
            word_taken = True
        out.append(word)
    return out, given


def _value_flag(word: str, context: ParserContext | None) -> Any:
    """The argument ``word`` (``--flag`` or ``--flag=value``) sets when it takes a value, else None."""
    if context is None or not word.startswith("-") or word == "-":
        return None
    name = word.partition("=")[0]
    if name not in context.flags:
        return None
    arg = context.flags[name]
    return arg if arg.takes_value and not arg.optional else None


def _keep(values: dict[str, Any], arg: Any, value: str) -> None:
    if arg.kind is list:
        values.setdefault(arg.name, []).append(value)
    else:
        values[arg.name] = value


def _task_words(argv: list[str], unparsed: list[str]) -> list[str]:
    """The words invoke left for its tasks, with what its core parse set aside after a `--` put back."""
    try:
        ddash = argv.index("--", 1)
    except ValueError:
        return list(unparsed)
    return [*unparsed, *argv[ddash:]]


def _split(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    if "--" not in words:
        return words, [], []
    at = words.index("--")
    return words[:at], ["--"], words[at + 1:]


def _contexts(ns: Collection, *word_lists: Sequence[str]) -> dict[str, ParserContext]:
    """The parser contexts of the tasks the command line names (and their aliases), as invoke builds them."""
    words = {word for words in word_lists for word in words}
    contexts: dict[str, ParserContext] = {}
    for name, aliases in ns.task_names.items():
        called = words.intersection([name, *aliases])
        if called:
            task = copy.deepcopy(ns[name])  # get_arguments() consumes the task's help texts
            context = ParserContext(name=name, aliases=aliases, args=task.get_arguments())
            contexts.update({word: context for word in called})
    return contexts


def _give(ns: Collection, name: str, values: dict[str, Any]) -> None:
    """Replace the task ``name`` with a copy whose signature defaults ``values``."""
    *path, last = name.split(".")
    owner = ns
    for part in path:
        owner = owner.collections[part]
    task: Task[Any] = owner.tasks[last]
    body = task.body
    signature = inspect.signature(body)

    def given(*args: Any, **kwargs: Any) -> Any:
        return body(*args, **kwargs)

    given.__signature__ = signature.replace(parameters=[  # type: ignore[attr-defined]
        p.replace(default=values[p.name]) if p.name in values else p for p in signature.parameters.values()])
    given.__name__, given.__doc__ = getattr(body, "__name__", last), body.__doc__
    changed = copy.copy(task)
    changed.body, changed.help = given, dict(task.help)
    owner.tasks[last] = changed
