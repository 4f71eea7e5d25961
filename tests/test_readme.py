"""Every example of the README (and of any document listed in ``DOCUMENTS``) runs as written.

Each fenced ``python`` or ``bash`` block is one test: it is written to a file in a fresh
temporary directory and run there in a subprocess (``sys.executable`` on a Python block,
``bash -euo pipefail`` on a shell block), with this process's environment (so
``NUMBA_CACHE_DIR`` carries over) and this interpreter's scripts first on ``PATH`` (so
``fastbp`` and ``python`` are the ones under test). Blocks of no language or another language
(a directory tree, a table) are not code and are not run.

A block that cannot run here says so in the document itself, just before it::

    <!-- readme-test: skip "runs the whole test suite; .ci/run runs this command" -->

(in reStructuredText: ``.. readme-test: skip "..."``), and its test is skipped with that
reason. The reasons that hold: the test command itself, installing the package (it would
replace a developer's editable install; CI installs it the same way), a network, a GPU, or
minutes of running.
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The documents whose examples are run: the README and any Markdown or reStructuredText
# page under docs/ but what a docs build writes there (the gallery's pages run its examples,
# which are scripts of their own; the API pages are generated from the docstrings).
_BUILT = {"_build", "generated", "auto_examples"}
DOCUMENTS = [
    ROOT / "README.md",
    *(
        path
        for pattern in ("**/*.md", "**/*.rst")
        for path in sorted((ROOT / "docs").glob(pattern))
        if not _BUILT & set(path.relative_to(ROOT / "docs").parts)
    ),
]
RUNNERS = {"python": [sys.executable], "bash": ["bash", "-euo", "pipefail"]}
SUFFIXES = {"python": ".py", "bash": ".sh"}
# A block that runs longer than this has hung (a server, a prompt); none should come near it.
TIMEOUT_S = 900

MARKER = re.compile(r'^readme-test:\s*skip\s+"(?P<reason>[^"]+)"\s*$')
MD_COMMENT = re.compile(r"^<!--\s*(?P<body>.*?)\s*-->$")
MD_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<language>[\w+-]*)")
MD_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
RST_DIRECTIVE = re.compile(
    r"^(?P<indent> *)\.\.\s+(?:code-block|code|sourcecode)::\s*(?P<language>\S*)"
)
RST_COMMENT = re.compile(r"^\.\.\s+(?P<body>readme-test:.*)$")
RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")


@dataclass(frozen=True)
class Block:
    document: Path
    line: int  # of the block's first line of code, 1-based
    section: str
    index: int  # the block's place among the runnable blocks of its section, from 1
    language: str
    code: str
    skip: str | None  # the reason given in the document, or None

    @property
    def id(self):
        name = self.document.relative_to(ROOT).as_posix()
        section = re.sub(r"[^a-z0-9]+", "-", self.section.lower()).strip("-") or "top"
        return f"{name}:{section}:{self.index}"


def _language(name):
    """The runner of a fence's or directive's language, or None for anything else."""
    name = name.lower()
    if name in ("python", "py", "python3"):
        return "python"
    if name in ("bash", "sh", "shell"):
        return "bash"
    return None


class _Markers:
    """The readme-test comment waiting for its block: it must be the last non-blank line
    before one."""

    def __init__(self, path):
        self.path, self.pending = path, None

    def line(self, number, body):
        """A non-blank line that is not a fence: ``body`` is its marker's text, or None."""
        if self.pending is not None:
            raise ValueError(
                f"{self.path.name}:{number}: the readme-test marker above is not just before "
                "a code block"
            )
        self.pending = body

    def take(self):
        marker, self.pending = self.pending, None
        return marker


def _markdown_blocks(path, lines):
    """``(line, section, language, code, marker)`` of every fenced block of a Markdown file:
    line, the block's first line of code (from 1); marker, the text of a readme-test comment
    on the last non-blank line before the fence. A fence may be indented (in a list item): its
    indentation is taken off every line of the block."""
    section, markers, index = "", _Markers(path), 0
    while index < len(lines):
        line = lines[index]
        fence = MD_FENCE.match(line)
        if fence is None:
            if line.strip():
                heading = MD_HEADING.match(line)
                section = heading["title"] if heading else section
                comment = MD_COMMENT.match(line.strip())
                marker = comment and comment["body"].startswith("readme-test")
                markers.line(index + 1, comment["body"] if marker else None)
            index += 1
            continue
        indent, mark = len(fence["indent"]), fence["fence"]
        closing = re.compile(rf"^ *{re.escape(mark[0])}{{{len(mark)},}}\s*$")
        first, body = index + 2, []
        index += 1
        while index < len(lines) and not closing.match(lines[index]):
            text = lines[index]
            body.append(text[indent:] if not text[:indent].strip() else text.lstrip())
            index += 1
        yield first, section, fence["language"], "\n".join(body) + "\n", markers.take()
        index += 1


def _rst_blocks(path, lines):
    """The same for reStructuredText: ``.. code-block:: LANG`` (or ``code``, ``sourcecode``)
    directives, each after an optional ``.. readme-test: skip "why"`` comment."""
    section, markers, index = "", _Markers(path), 0
    while index < len(lines):
        line = lines[index]
        directive = RST_DIRECTIVE.match(line)
        if directive is None:
            if line.strip():
                following = lines[index + 1] if index + 1 < len(lines) else ""
                if RST_UNDERLINE.match(following) and not RST_UNDERLINE.match(line):
                    section = line.strip()
                comment = RST_COMMENT.match(line.strip())
                markers.line(index + 1, comment["body"] if comment else None)
            index += 1
            continue
        index += 1
        while index < len(lines) and lines[index].strip().startswith(":"):  # its options
            index += 1
        while index < len(lines) and not lines[index].strip():
            index += 1
        first, body = index + 1, []
        while index < len(lines) and (not lines[index].strip() or lines[index][0] == " "):
            body.append(lines[index])
            index += 1
        while body and not body[-1].strip():
            body.pop()
        cut = min((len(text) - len(text.lstrip()) for text in body if text.strip()), default=0)
        code = "\n".join(text[cut:] for text in body) + "\n"
        yield first, section, directive["language"], code, markers.take()


def blocks(path):
    """Every fenced block of ``path`` in a language with a runner, in order, numbered within
    its section."""
    lines = path.read_text(encoding="utf-8").splitlines()
    parse = _rst_blocks if path.suffix == ".rst" else _markdown_blocks
    found, counts = [], {}
    for line, section, name, code, marker in parse(path, lines):
        language = _language(name)
        skip = None
        if marker is not None:
            match = MARKER.match(marker)
            if match is None:
                raise ValueError(
                    f'{path.name}:{line}: a skip marker reads readme-test: skip "why", '
                    f"not {marker!r}"
                )
            if language is None:
                raise ValueError(f"{path.name}:{line}: a skip marker before a block not run")
            skip = match["reason"]
        if language is None:
            continue
        counts[section] = counts.get(section, 0) + 1
        found.append(Block(path, line, section, counts[section], language, code, skip))
    return found


BLOCKS = [block for document in DOCUMENTS for block in blocks(document)]


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_block_runs_as_written(block, tmp_path, tmp_path_factory):
    if block.skip:
        pytest.skip(f"{block.id}: {block.skip}")
    # The script lives outside the directory it runs in, which holds only what it writes.
    script = tmp_path_factory.mktemp("script") / f"block{SUFFIXES[block.language]}"
    script.write_text(block.code, encoding="utf-8")
    environment = dict(os.environ)
    scripts = os.path.dirname(sys.executable)
    environment["PATH"] = os.pathsep.join([scripts, environment.get("PATH", "")])
    try:
        result = subprocess.run(
            [*RUNNERS[block.language], str(script)],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as error:
        result = error
    where = f"{block.document.name}, line {block.line} ({block.section})"
    if isinstance(result, subprocess.TimeoutExpired):
        outcome = f"ran past {TIMEOUT_S} s"
    elif result.returncode != 0:
        outcome = f"exit status {result.returncode}"
    else:
        return
    pytest.fail(
        f"{where}: {outcome}\n--- code\n{block.code}"
        f"--- stdout\n{_text(result.stdout)}\n--- stderr\n{_text(result.stderr)}",
        pytrace=False,
    )


def _text(output):
    # A timeout's output is bytes, even with text=True.
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def test_the_documents_have_runnable_examples():
    """The parser still finds the documents' examples: a change of fence style would otherwise
    leave nothing to run, and the tests above would pass by running nothing."""
    readme = [block for block in BLOCKS if block.document.name == "README.md"]
    assert sum(block.skip is None for block in readme) >= 1
    assert sum(block.skip is None for block in BLOCKS) >= 5
    assert len({block.id for block in BLOCKS}) == len(BLOCKS)


def test_the_parsers_read_fences_directives_markers_and_sections(tmp_path):
    markdown = tmp_path / "page.md"
    markdown.write_text(
        "# Title\n\n```\ntree/\n```\n\n## Use\n\n- item:\n\n  ```python\n  if True:\n"
        '      print(1)\n  ```\n\n<!-- readme-test: skip "needs a GPU" -->\n```bash\n'
        "echo hi\n```\n"
    )
    found = blocks(markdown)
    assert [(b.section, b.index, b.language, b.skip, b.line) for b in found] == [
        ("Use", 1, "python", None, 12),
        ("Use", 2, "bash", "needs a GPU", 18),
    ]
    assert found[0].code == "if True:\n    print(1)\n"
    rst = tmp_path / "page.rst"
    rst.write_text(
        'Use\n===\n\n.. readme-test: skip "takes minutes"\n\n.. code-block:: bash\n\n'
        "   fastbp bench\n\n.. code-block:: python\n   :caption: x\n\n   import fastbp\n"
        "   print(fastbp)\n\nText.\n"
    )
    found = blocks(rst)
    assert [(b.section, b.language, b.skip, b.line, b.code) for b in found] == [
        ("Use", "bash", "takes minutes", 8, "fastbp bench\n"),
        ("Use", "python", None, 13, "import fastbp\nprint(fastbp)\n"),
    ]
    for stale in (
        '<!-- readme-test: skip "why" -->\nText.\n',
        "<!-- readme-test: run -->\n```sh\n```\n",
    ):
        markdown.write_text(stale)
        with pytest.raises(ValueError, match="marker"):
            blocks(markdown)
