"""The course as files: an offline static site of the lessons, and the instructor's guide.

``build_site(outdir)`` (``python -m kubenet_lab build-site OUTDIR``) writes
``OUTDIR/index.html``, the lesson map, and one page per lesson notebook with its stored
outputs and pictures, for learners to read before or after class without installing
anything. The pages are nbconvert's ``lab`` template (``HTMLExporter``, nbconvert 7: its
``index.html.j2``) with the blocks that load code from CDNs emptied: require.js
(``html_head_js``, from ``HTMLExporter.require_js_url``, cdnjs), the widget html-manager
(``jupyter_widgets``, from ``jupyter_widgets_base_url``, unpkg), MathJax
(``html_head_js_mathjax``) and mermaid (``html_head_js_mermaidjs``). The CSS is inlined
by that template already. A widget's output keeps its bundle minus the widget view
(``application/vnd.jupyter.widget-view+json``; ipywidgets' docs, "Embedding Jupyter
Widgets in Other Contexts than the Notebook"), so the page shows the bundle's
``image/png`` or ``text/plain`` fallback; the notebook's saved widget state
(``metadata.widgets``, the ``widget-state+json`` an html-manager would render) is left
out too. Links between
lessons (``NN-name.ipynb``) become ``NN-name.html``; ``images/`` is copied.

``teaching_sections()`` and ``update_teaching()`` (``python -m kubenet_lab
teaching-solutions``) write the generated parts of ``docs/teaching.md``: the table of
lessons (minutes, prerequisites and objectives, read from each notebook) and the
solutions (task, solution, why, and the hints of the checks, read from the
``kl.exercise`` objects), between ``<!-- BEGIN GENERATED: name -->`` markers, so that
neither can drift from the lessons.

Both find the notebooks in the repository checkout (the course is installed editable):
``notebooks/`` next to the package, or the folder given.

Examples
--------
>>> [(lesson.number, lesson.title) for lesson in lessons()][:2]
[('00', 'Start here: Kubernetes networking you can see'), ('01', 'Pod-level networking')]
>>> lessons("/nowhere")
Traceback (most recent call last):
kubenet_lab.exceptions.NotFoundError: Notebooks directory: '/nowhere' does not exist (pass \
the course's notebooks/ folder: --notebooks DIR, or notebooks= in Python)
"""

from __future__ import annotations

import ast
import functools
import html
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from kubenet_lab.exceptions import ManifestError, NotFoundError
from kubenet_lab.exercises import exercise_list
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.model.arguments import checked

__all__ = [
    "PLANS", "TEACHING_SECTIONS", "WIDGET_VIEW", "Lesson", "Prerequisite", "Site", "build_site",
    "default_notebooks", "default_teaching_file", "hint_texts", "lessons", "teaching_sections",
    "update_teaching",
]

_REPOSITORY = Path(__file__).resolve().parent.parent
#: The lesson notebooks: two digits, a dash, a name (``03-services.ipynb``).
_LESSON_GLOB = "[0-9][0-9]-*.ipynb"
#: The widget view in an output bundle (ipywidgets' embedding spec), dropped from pages.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: The generated parts of docs/teaching.md, in the order they appear there.
TEACHING_SECTIONS = ("plans", "lessons", "solutions")
_COMMAND = "python -m kubenet_lab teaching-solutions"


# ------------------------------------------------------------------ the lessons
@dataclass(frozen=True)
class Prerequisite:
    """One row of a lesson's prerequisites table: the concept (markdown) and its note
    (the table's second column: how important, or where it is taught)."""

    concept: str
    note: str


@dataclass(frozen=True)
class Lesson:
    """What a lesson notebook says about itself, read from its first cells.

    ``heading`` is its ``# `` title (``"01 · Pod-level networking"``), ``title`` the part
    after the number, ``summary`` the first paragraph under the title, ``objectives`` the
    items of its "Learning objectives" list, ``prerequisites`` the rows of its table,
    ``minutes`` its stated time (None when it states none), ``sections`` its ``## ``
    headings. Text stays markdown.
    """

    number: str
    path: Path
    heading: str
    title: str
    summary: str
    objectives: tuple[str, ...]
    prerequisites: tuple[Prerequisite, ...]
    minutes: int | None
    sections: tuple[str, ...] = ()

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def page(self) -> str:
        """Its page in the site."""
        return f"{self.stem}.html"

    @property
    def after(self) -> tuple[str, ...]:
        """The numbers of the earlier lessons its prerequisites name (a link to one, its
        ``NN · `` title, or "lesson NN")."""
        found: list[str] = []
        for p in self.prerequisites:
            for m in re.finditer(r"\b(\d\d)(?: ·|-[\w-]+\.ipynb)|\blesson (\d\d)\b",
                                 f"{p.concept} {p.note}", re.IGNORECASE):
                number = m.group(1) or m.group(2)
                if number < self.number and number not in found:
                    found.append(number)
        return tuple(sorted(found))


def default_notebooks() -> Path:
    """``notebooks/`` of the repository checkout the package runs from."""
    return _REPOSITORY / "notebooks"


def _notebooks_dir(notebooks: str | Path | None) -> Path:
    folder = default_notebooks() if notebooks is None else Path(notebooks)
    fix = "pass the course's notebooks/ folder: --notebooks DIR, or notebooks= in Python"
    if not folder.is_dir():
        raise NotFoundError("Notebooks directory", None, str(folder), "does not exist",
                            fix=fix)
    if not any(folder.glob(_LESSON_GLOB)):
        raise NotFoundError("Notebooks directory", None, str(folder),
                            "holds no lesson notebook (NN-name.ipynb)", fix=fix)
    return folder


@checked
def lessons(notebooks: str | Path | None = None) -> list[Lesson]:
    """The lessons of ``notebooks`` (default: the checkout's ``notebooks/``), in order."""
    folder = _notebooks_dir(notebooks)
    return [_read_lesson(path) for path in sorted(folder.glob(_LESSON_GLOB))]


def _read_lesson(path: Path) -> Lesson:
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same error to us
        raise ManifestError("Notebook", None, str(path), f"cannot be read ({err})",
                            fix="restore it from git (git checkout -- FILE)") from None
    intro: list[str] = []
    for cell in nb.cells:  # the cells before the first code cell state what the lesson is
        if cell.cell_type == "code":
            break
        if cell.cell_type == "markdown":
            intro.append(cell.source)
    text = "\n\n".join(intro)
    heading = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")),
                   path.stem)
    number = path.name[:2]
    title = re.sub(rf"^{number}\s*[·:.-]\s*", "", heading)
    sections = tuple(line[3:].strip() for cell in nb.cells if cell.cell_type == "markdown"
                     for line in cell.source.splitlines() if line.startswith("## "))
    return Lesson(number, path, heading, title, _summary(text), _objectives(text),
                  _prerequisites(text), _minutes(text), sections)


def _blocks(text: str) -> list[str]:
    return [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]


def _summary(text: str) -> str:
    for block in _blocks(text):
        if not block.startswith(("#", "!", ">", "|", "---", "<", "**Time")):
            return " ".join(line.strip() for line in block.splitlines())
    return ""


def _section(text: str, name: str) -> list[str]:
    """The lines under the heading ``## <name>`` up to the next heading or rule."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"#{{2,3}}\s+(learning\s+)?{name}\b", line.strip(), re.IGNORECASE):
            out = []
            for rest in lines[i + 1:]:
                if rest.startswith("#") or rest.strip() == "---":
                    break
                out.append(rest)
            return out
    return []


def _objectives(text: str) -> tuple[str, ...]:
    items: list[str] = []
    for line in _section(text, "objectives"):
        start = re.match(r"\s*(?:\d+\.|[-*])\s+(.*)", line)
        if start and not line.startswith("   "):
            items.append(start.group(1).strip())
        elif line.strip() and items:
            items[-1] += " " + line.strip()
        elif not line.strip() and items:
            break
    return tuple(items)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def _prerequisites(text: str) -> tuple[Prerequisite, ...]:
    rows = [line for line in _section(text, "prerequisites") if line.strip().startswith("|")]
    out = []
    for row in rows[2:]:  # the header and the --- line
        cells = _cells(row)
        out.append(Prerequisite(cells[0], cells[1] if len(cells) > 1 else ""))
    return tuple(out)


def _minutes(text: str) -> int | None:
    found = re.search(r"\bTime:?\**:?\s*(?:about\s+|~\s*)?(\d+)\s*min", text, re.IGNORECASE)
    return int(found.group(1)) if found else None


# ------------------------------------------------------------------ the site
@dataclass(frozen=True)
class Site:
    """What ``build_site`` wrote: the folder, its pages (index first) and the local links
    that point to no file of the site (``page: target``; none when all is well)."""

    outdir: Path
    pages: tuple[str, ...]
    broken_links: tuple[str, ...]

    def __str__(self) -> str:
        lines = [f"wrote {len(self.pages)} pages to {self.outdir}: " + ", ".join(self.pages)]
        lines += [f"broken link in {link}" for link in self.broken_links]
        return "\n".join(lines)


_PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style type="text/css">{{ resources.kl_css }}</style>{%- endblock -%}
{%- block body_header -%}{{ super() }}
{{ resources.kl_nav }}{%- endblock body_header -%}
{%- block body_footer -%}{{ resources.kl_nav }}
{{ super() }}{%- endblock body_footer -%}
"""

_NAV_CSS = """
nav.kl-nav { display: flex; gap: 1.5em; justify-content: space-between; margin: 0.5em 0;
  padding: 0.5em 1em; border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa;
  font-family: system-ui, sans-serif; font-size: 14px; }
nav.kl-nav a { color: #0969da; text-decoration: none; }
nav.kl-nav a:hover { text-decoration: underline; }
"""

_INDEX_CSS = _NAV_CSS + """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em;
  color: #1f2328; line-height: 1.5; }
h1 { margin-bottom: 0.2em; }
ol.kl-lessons { list-style: none; padding: 0; }
ol.kl-lessons > li { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.2em 1em 0.8em;
  margin: 1em 0; }
.kl-meta { color: #59636e; font-size: 14px; margin: 0; }
code { background: #eff1f3; padding: 0.1em 0.3em; border-radius: 4px; font-size: 90%; }
"""


@checked
def build_site(outdir: str | Path, notebooks: str | Path | None = None) -> Site:
    """Write the course as a static site to ``outdir`` (created if missing): ``index.html``
    and one page per lesson of ``notebooks`` (default: the checkout's ``notebooks/``),
    from the outputs stored in the notebooks (nothing is executed), plus ``images/``.
    The pages load nothing from the network; any static host serves the folder.
    Files of the same names are overwritten; nothing else in ``outdir`` is touched."""
    folder = _notebooks_dir(notebooks)
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise ManifestError("Output directory", None, str(out), "is a file",
                            fix="name a folder for the site")
    if out.resolve() == folder.resolve():
        raise ManifestError("Output directory", None, str(out), "is the notebooks folder",
                            fix="name another folder for the site, e.g. site/")
    course = lessons(folder)
    out.mkdir(parents=True, exist_ok=True)
    images = folder / "images"
    if images.is_dir():
        shutil.copytree(images, out / "images", dirs_exist_ok=True)
    exporter = _exporter()
    pages = {"index.html": _index_html(course)}
    for i, lesson in enumerate(course):
        pages[lesson.page] = _lesson_html(exporter, lesson, course[i - 1] if i else None,
                                          course[i + 1] if i + 1 < len(course) else None)
    for name, text in pages.items():
        (out / name).write_text(text, encoding="utf-8")
    broken = tuple(f"{name}: {target}" for name, text in pages.items()
                   for target in _local_targets(text) if not (out / target).is_file())
    return Site(out, tuple(pages), broken)


def _exporter():
    import jinja2
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file="kubenet_lab_page.html.j2",
                        extra_loaders=[jinja2.DictLoader(
                            {"kubenet_lab_page.html.j2": _PAGE_TEMPLATE})])


def _nav(previous: Lesson | None, following: Lesson | None) -> str:
    def link(lesson: Lesson | None, rel: str, arrow: str) -> str:
        if lesson is None:
            return "<span></span>"
        label = html.escape(lesson.heading)
        label = f"{arrow} {label}" if rel == "prev" else f"{label} {arrow}"
        return f'<a href="{lesson.page}" rel="{rel}">{label}</a>'

    return (f'<nav class="kl-nav">{link(previous, "prev", "←")}'
            f'<a href="index.html">All lessons</a>{link(following, "next", "→")}</nav>')


def _lesson_html(exporter: Any, lesson: Lesson, previous: Lesson | None,
                 following: Lesson | None) -> str:
    import nbformat

    nb = nbformat.read(lesson.path, as_version=4)
    nb.metadata.pop("widgets", None)
    nb.metadata["title"] = f"{lesson.heading} · kubenet-lab"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            data = output.get("data")
            if data is not None:
                data.pop(WIDGET_VIEW, None)
                if not data:
                    continue
            outputs.append(output)
        cell.outputs = outputs
    body, _ = exporter.from_notebook_node(nb, resources={
        "metadata": {"name": lesson.heading}, "kl_nav": _nav(previous, following),
        "kl_css": _NAV_CSS})
    return _rewrite_links(body)


def _rewrite_links(text: str) -> str:
    """``href="NN-name.ipynb#x"`` -> ``href="NN-name.html#x"`` (attributes only: text
    in code cells is escaped, so a quote there is ``&quot;``)."""
    return re.sub(r'(href=")(?:\./)?(\d\d-[^"/#?]+)\.ipynb([#?][^"]*)?"',
                  lambda m: f'{m.group(1)}{m.group(2)}.html{m.group(3) or ""}"', text)


def _index_html(course: list[Lesson]) -> str:
    from nbconvert.filters import markdown2html

    by_number = {lesson.number: lesson for lesson in course}
    items = []
    for lesson in course:
        meta = [f"{lesson.minutes} minutes"] if lesson.minutes else []
        needs = [f'<a href="{by_number[n].page}">{html.escape(by_number[n].heading)}</a>'
                 for n in lesson.after if n in by_number]
        if needs:
            meta.append("after " + ", ".join(needs))
        objectives = "".join(f"<li>{_inline(markdown2html(o))}</li>" for o in lesson.objectives)
        items.append(
            f'<li id="lesson-{lesson.number}"><h2><a href="{lesson.page}">'
            f"{html.escape(lesson.heading)}</a></h2>"
            + (f'<p class="kl-meta">{" · ".join(meta)}</p>' if meta else "")
            + markdown2html(lesson.summary)
            + (f"<p><strong>You will learn to</strong></p><ol>{objectives}</ol>"
               if objectives else "")
            + "</li>")
    first = course[0]
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>kubenet-lab: the lessons</title>
<style type="text/css">{_INDEX_CSS}</style>
</head>
<body>
<main>
<h1>kubenet-lab</h1>
<p>An offline course on Kubernetes networking. These pages show each lesson as it was last
run, with its outputs and pictures; to run the lessons and answer their exercises, open the
notebooks in JupyterLab (see the course's README). Start with
<a href="{first.page}">{html.escape(first.heading)}</a>.</p>
<ol class="kl-lessons">
{chr(10).join(items)}
</ol>
</main>
</body>
</html>
"""
    return _rewrite_links(page)


def _inline(fragment: str) -> str:
    """A one-paragraph HTML fragment without its ``<p>``."""
    return re.sub(r"^\s*<p>(.*)</p>\s*$", r"\1", fragment, flags=re.DOTALL)


class _Targets(HTMLParser):
    """The local files a page refers to: ``href`` and ``src`` that are not anchors,
    ``data:`` URIs or absolute URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith(("#", "data:")) \
                    and not re.match(r"[a-z][a-z0-9+.-]*:", value, re.IGNORECASE):
                self.found.append(unquote(value.split("#")[0].split("?")[0]))


def _local_targets(page: str) -> list[str]:
    parser = _Targets()
    parser.feed(page)
    return parser.found


# ------------------------------------------------------------------ docs/teaching.md
def default_teaching_file() -> Path:
    """``docs/teaching.md`` of the repository checkout."""
    return _REPOSITORY / "docs" / "teaching.md"


#: The class plans: (lesson number, or a break's label and minutes). A lesson's minutes
#: are its own stated time; the number after it is used only when it states none.
PLANS: dict[str, tuple[tuple[str, int], ...]] = {
    "Half day": (
        ("00", 10), ("01", 0), ("02", 0), ("Break", 15), ("03", 0), ("07", 0),
        ("Wrap-up: questions, and what to read on the site", 10),
    ),
    "Full day": (
        ("00", 10), ("01", 0), ("02", 0), ("Break", 15), ("03", 0), ("04", 0),
        ("Lunch", 60), ("05", 0), ("06", 0), ("Break", 15), ("07", 0), ("08", 0),
        ("Wrap-up: questions; the capstone (09) as homework", 10),
    ),
}


def _lesson_link(lesson: Lesson) -> str:
    return f"[{lesson.heading}](../notebooks/{lesson.path.name})"


def _md_links(text: str) -> str:
    """Links of a lesson's markdown, from notebooks/ to docs/."""
    return re.sub(r"\]\((?:\./)?(\d\d-[^)/]+\.ipynb)", r"](../notebooks/\1", text)


def _cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def _lessons_section(course: list[Lesson]) -> str:
    rows = ["| Lesson | Minutes | Prerequisites | Learning objectives |",
            "| --- | --- | --- | --- |"]
    for lesson in course:
        needs = "; ".join(_md_links(p.concept) + (f" ({_md_links(p.note)})" if p.note else "")
                          for p in lesson.prerequisites) or "none"
        objectives = "<br>".join(f"{i}. {o}" for i, o in enumerate(lesson.objectives, 1)) \
            or "(no objectives list; its sections:) " + "; ".join(lesson.sections)
        rows.append(f"| {_lesson_link(lesson)} | {lesson.minutes or 'not stated'} | "
                    f"{_cell(needs)} | {_cell(_md_links(objectives))} |")
    return "\n".join(rows)


def _clock(minutes: int) -> str:
    return f"{9 + minutes // 60}:{minutes % 60:02d}"


def _plans_section(course: list[Lesson]) -> str:
    by_number = {lesson.number: lesson for lesson in course}
    parts = []
    for name, plan in PLANS.items():
        rows = ["| Start | Minutes | What |", "| --- | --- | --- |"]
        start = 0
        for item, fallback in plan:
            lesson = by_number.get(item)
            if re.fullmatch(r"\d\d", item) and lesson is None:
                continue  # a lesson not in this checkout
            if lesson is not None and lesson.minutes:
                minutes, what = lesson.minutes, _lesson_link(lesson)
            elif lesson is not None:
                minutes, what = fallback, f"{_lesson_link(lesson)} (the lesson states no time)"
            else:
                minutes, what = fallback, item
            rows.append(f"| {_clock(start)} | {minutes} | {what} |")
            start += minutes
        rows.append(f"| {_clock(start)} | | end |")
        parts.append(f"**{name}**: 9:00 to {_clock(start)}, {start // 60} h {start % 60:02d} min."
                     "\n\n" + "\n".join(rows))
    return "\n\n".join(parts)


def _escape(text: str) -> str:
    """Plain text for markdown: ``*`` and an HTML-like ``<`` kept literal."""
    text = text.replace("\\", "\\\\").replace("*", r"\*")
    return re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)


def _fence(code: str) -> str:
    try:
        ast.parse(code)
        language = "python"
    except SyntaxError:
        language = ""
    ticks = "```"
    while ticks in code:
        ticks += "`"
    return f"{ticks}{language}\n{code.rstrip()}\n{ticks}"


# The hints of a check: a string, or a function of (answer, context) whose returned
# strings are read from its source (f-string values shown as "…").
@functools.cache
def _module_tree(filename: str) -> ast.Module | None:
    try:
        return ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None


def _hint_node(hint: Callable[..., Any]) -> tuple[ast.Module, ast.FunctionDef | ast.Lambda] | None:
    """The source of a hint function, with the module that holds it."""
    code = getattr(hint, "__code__", None)
    tree = _module_tree(code.co_filename) if code is not None else None
    if tree is None:
        return None
    line = code.co_firstlineno
    if code.co_name == "<lambda>":
        hinted = {id(arg) for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Check"
                  for arg in node.args[1:2] + [k.value for k in node.keywords
                                              if k.arg == "hint"]}
        found = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda) and n.lineno == line]
        if len(found) > 1:
            found = [n for n in found if id(n) in hinted]
        return (tree, found[0]) if len(found) == 1 else None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == code.co_name and (
                node.lineno == line or any(d.lineno == line for d in node.decorator_list)):
            return tree, node
    return None


def _template(expr: ast.expr) -> str:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in expr.values)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _template(expr.left) + _template(expr.right)
    return "…"


def _literal_text(template: str) -> str | None:
    text = re.sub(r"…+", "…", template).strip()
    return text if re.search(r"[A-Za-z]{3}", text) else None


def _answer_condition(test: ast.expr, answer: str) -> str | None:
    """``if <test>`` as words, when it compares the answer with a literal."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, right, op = test.left, test.comparators[0], test.ops[0]

    def names_answer(node: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id == answer for n in ast.walk(node))

    def literal(node: ast.expr) -> str | None:
        try:
            return repr(ast.literal_eval(node))
        except ValueError:
            return None

    if isinstance(op, ast.Eq) and names_answer(left) and literal(right):
        return f"the answer is `{literal(right)}`"
    if isinstance(op, ast.In) and names_answer(right) and literal(left):
        return f"the answer holds `{literal(left)}`"
    if isinstance(op, ast.In) and names_answer(left) and literal(right):
        return f"the answer is one of `{literal(right)}`"
    return None


def _expression(expr: ast.expr, condition: str | None, tree: ast.Module, depth: int,
                out: list[tuple[str | None, str]],
                assigned: dict[str, ast.expr] | None = None) -> None:
    """The hint texts an expression gives: its own literal text, or (a call to, or ``or``
    of calls to, or a variable set from) the module's functions that return hints."""
    text = _literal_text(_template(expr))
    if text:
        out.append((condition, text))
        return
    if isinstance(expr, ast.Name) and assigned and expr.id in assigned:
        _expression(assigned.pop(expr.id), condition, tree, depth, out, assigned)
        return
    table = _table_lookup(expr, tree)
    if table is not None:
        key, entries, default = table
        for literal, value in entries:
            _expression(value, f"`{key}` is `{literal!r}`", tree, depth, out, assigned)
        if default is not None:
            _expression(default, condition, tree, depth, out, assigned)
        return
    calls = expr.values if isinstance(expr, ast.BoolOp) else [expr]
    for call in calls:
        if depth < 2 and isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
            called = next((f for f in tree.body if isinstance(f, ast.FunctionDef)
                           and f.name == call.func.id), None)
            if called is not None and called.args.args:
                _function(called, condition, tree, depth + 1, out)


def _table_lookup(expr: ast.expr, tree: ast.Module
                  ) -> tuple[str, list[tuple[Any, ast.expr]], ast.expr | None] | None:
    """``TABLE.get(key, default)`` of a module-level dict of hints: the key's name, the
    entries and the default."""
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "get" and isinstance(expr.func.value, ast.Name)
            and expr.args):
        return None
    name = expr.func.value.id
    table = next((stmt.value for stmt in tree.body if isinstance(stmt, ast.Assign)
                  and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)
                  and isinstance(stmt.value, ast.Dict)), None)
    if table is None:
        return None
    key = ast.unparse(expr.args[0]) if isinstance(expr.args[0], ast.Name) else "the key"
    entries = []
    for k, v in zip(table.keys, table.values, strict=True):
        try:
            entries.append((ast.literal_eval(k), v))
        except ValueError:
            return None
    return key, entries, expr.args[1] if len(expr.args) > 1 else None


def _function(node: ast.FunctionDef, condition: str | None, tree: ast.Module, depth: int,
              out: list[tuple[str | None, str]]) -> None:
    assigned = {stmt.targets[0].id: stmt.value for stmt in ast.walk(node)
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)}
    answer = node.args.args[0].arg if node.args.args else "answer"
    _returns(node.body, condition, answer, tree, depth, out, assigned)


def _returns(body: Iterable[ast.stmt], condition: str | None, answer: str, tree: ast.Module,
             depth: int, out: list[tuple[str | None, str]],
             assigned: dict[str, ast.expr]) -> None:
    for stmt in body:
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            _expression(stmt.value, condition, tree, depth, out, assigned)
        elif isinstance(stmt, ast.If):
            _returns(stmt.body, _answer_condition(stmt.test, answer), answer, tree, depth, out,
                     assigned)
            _returns(stmt.orelse, None, answer, tree, depth, out, assigned)
        elif isinstance(stmt, (ast.For, ast.While, ast.With, ast.Try)):
            for block in ("body", "orelse", "finalbody"):
                _returns(getattr(stmt, block, []), None, answer, tree, depth, out, assigned)
            for handler in getattr(stmt, "handlers", []):
                _returns(handler.body, None, answer, tree, depth, out, assigned)


def hint_texts(check: Check) -> tuple[tuple[str | None, str], ...]:
    """The hints a check can give, as ``(condition, text)``: its string hint, or the
    strings its hint function returns (read from the source, following the calls to the
    module's own hint functions; a value computed from the learner's work shows as "…";
    ``condition`` says when, where the function compares the answer with a literal).
    Empty when the source says nothing readable."""
    if isinstance(check.hint, str):
        return ((None, check.hint),)
    found = _hint_node(check.hint)
    if found is None:
        return ()
    tree, node = found
    out: list[tuple[str | None, str]] = []
    if isinstance(node, ast.Lambda):
        _expression(node.body, None, tree, 0, out)
    else:
        _function(node, None, tree, 0, out)
    return tuple(dict.fromkeys(out))


def _hints(exercise: Exercise) -> list[str]:
    lines = []
    for i, check in enumerate(exercise.checks, 1):
        same = [j for j, other in enumerate(exercise.checks[:i - 1], 1)
                if other.hint is check.hint and not isinstance(check.hint, str)]
        if same:
            lines.append(f"{i}. The same hint as check {same[0]}.")
            continue
        texts = hint_texts(check)
        if not texts:
            lines.append(f"{i}. A hint built from what the answer got wrong.")
        elif len(texts) == 1 and texts[0][0] is None:
            lines.append(f"{i}. {_escape(texts[0][1])}")
        else:
            lines.append(f"{i}. One of:")
            lines += [f"   - {'If ' + cond + ': ' if cond else ''}{_escape(text)}"
                      for cond, text in texts]
    return lines


def _solutions_section(course: list[Lesson]) -> str:
    by_number = {int(lesson.number): lesson for lesson in course}
    parts = []
    current = None
    for exercise in exercise_list():
        number = int(exercise.key.split(".")[0])
        if number != current:
            current = number
            lesson = by_number.get(number)
            parts.append(f"### {lesson.heading if lesson else f'Lesson {number:02d}'}")
        parts.append("\n".join([
            f"#### Exercise {exercise.key}", "",
            f"**Task.** {_escape(exercise.task)}", "",
            "**Solution.**", "", _fence(exercise.solution), "",
            f"**Why.** {_escape(exercise.explanation)}", "",
            "**Hints**, one per check, in the order they run (the learner sees the first "
            "that fails):", "", *_hints(exercise),
        ]))
    return "\n\n".join(parts)


@checked
def teaching_sections(notebooks: str | Path | None = None) -> dict[str, str]:
    """The generated parts of docs/teaching.md, by name (``TEACHING_SECTIONS``)."""
    course = lessons(notebooks)
    return {"plans": _plans_section(course), "lessons": _lessons_section(course),
            "solutions": _solutions_section(course)}


def _markers(name: str) -> tuple[str, str]:
    return (f"<!-- BEGIN GENERATED: {name} ({_COMMAND}; do not edit by hand) -->",
            f"<!-- END GENERATED: {name} -->")


@checked
def update_teaching(path: str | Path | None = None, notebooks: str | Path | None = None,
                    write: bool = True) -> bool:
    """Regenerate the parts of ``path`` (default: the checkout's docs/teaching.md) between
    their markers; True if that changed the file (with ``write=False`` the file is left
    alone, so True means it is out of date)."""
    target = default_teaching_file() if path is None else Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError:
        raise NotFoundError("Teaching guide", None, str(target), "cannot be read",
                            fix="name the docs/teaching.md of the checkout") from None
    new = text
    for name, body in teaching_sections(notebooks).items():
        begin, end = _markers(name)
        if begin not in new or end not in new:
            raise ManifestError("Teaching guide", None, str(target),
                                f"has no markers for the generated part {name!r}",
                                fix=f"put the lines {begin!r} and {end!r} where it goes")
        head, rest = new.split(begin, 1)
        _, tail = rest.split(end, 1)
        new = f"{head}{begin}\n{body}\n{end}{tail}"
    if new != text and write:
        target.write_text(new, encoding="utf-8")
    return new != text

