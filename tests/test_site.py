"""``python -m kubenet_lab build-site OUTDIR``: the course as an offline static site.

What is checked comes from the notebooks themselves (their files, titles, links and stored
outputs) and from what a browser loads: every ``href``/``src`` of every page is an anchor
of the page, a file of the site, a ``data:`` URI embedded in it, or (for a plain ``<a>``
link only) an external address; no ``<script>``, ``<link>`` or ``<img>`` reaches the
network, nor does any CSS. nbconvert's ``lab`` template would load require.js, the
widget html-manager and MathJax from CDNs (``index.html.j2``, nbconvert 7): those must be
gone. The command line refuses bad arguments with a short message and exit code 2
(argparse's convention), never a traceback.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from kubenet_lab.__main__ import main
from kubenet_lab.site import build_site

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class Page(HTMLParser):
    """The tags of a page with their attributes, its ids, its text and its CSS."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()
        self.css: list[str] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])
        self._in.append(tag)

    def handle_endtag(self, tag):
        if tag in self._in:
            while self._in.pop() != tag:
                pass

    def handle_data(self, data):
        if self._in and self._in[-1] == "style":
            self.css.append(data)
        if self._in and self._in[-1] == "script":
            self.scripts.append(data)
        self.text.append(data)

    def links(self, rel=None):
        return [a["href"] for t, a in self.tags if t == "a" and "href" in a
                and (rel is None or a.get("rel") == rel)]


def _heading(path: Path) -> str:
    """The lesson's title: the ``# `` line of its first markdown cell."""
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    return next(line[2:].strip() for line in first.source.splitlines() if line.startswith("# "))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "out"
    start = time.perf_counter()
    assert main(["build-site", str(out)]) == 0
    seconds = time.perf_counter() - start
    assert seconds < 120, f"the site took {seconds:.0f} s to build"
    return out


@pytest.fixture(scope="module")
def pages(site):
    return {p.name: Page(p.read_text(encoding="utf-8")) for p in sorted(site.glob("*.html"))}


def test_every_lesson_has_a_page_and_the_images_are_copied(site, pages):
    assert LESSONS, "no lesson notebooks found"
    assert set(pages) == {"index.html"} | {f"{p.stem}.html" for p in LESSONS}
    for image in (NOTEBOOKS / "images").iterdir():
        assert (site / "images" / image.name).read_bytes() == image.read_bytes()


def test_the_index_is_the_lesson_map(pages):
    index = pages["index.html"]
    titles = {a["href"]: None for t, a in index.tags if t == "a"}
    text = " ".join("".join(index.text).split())
    for path in LESSONS:
        assert f"{path.stem}.html" in titles
        assert _heading(path) in text
    # what each lesson teaches: its first learning objective, from the notebook
    for path in LESSONS:
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                           if c.cell_type == "markdown")
        objectives = source.split("## Learning objectives", 1)
        if len(objectives) == 2:
            first = re.search(r"^1\.\s+(.*)", objectives[1], re.MULTILINE).group(1)
            words = re.sub(r"[*`]", "", first).split()[:4]
            assert " ".join(words) in text, (path.name, words)


def _resolve(site: Path, page: str, ref: str) -> Path:
    return (site / page).parent / unquote(urlsplit(ref).path)


def test_every_reference_is_local_embedded_or_a_plain_link(site, pages):
    bad = []
    for name, page in pages.items():
        for tag, attrs in page.tags:
            for attr in ("href", "src", "data", "poster"):
                ref = attrs.get(attr)
                if ref is None:
                    continue
                parts = urlsplit(ref)
                if parts.scheme in ("http", "https", "mailto"):
                    if not (tag == "a" and attr == "href"):
                        bad.append(f"{name}: <{tag} {attr}={ref}> loads from the network")
                elif parts.scheme == "data":
                    if tag == "a":
                        bad.append(f"{name}: <a href=data:...>")
                elif parts.scheme or parts.netloc or ref.startswith("/"):
                    bad.append(f"{name}: <{tag} {attr}={ref}> is not relative")
                elif not parts.path:  # an anchor of this page
                    if parts.fragment not in page.ids:
                        bad.append(f"{name}: anchor {ref} has no target")
                else:
                    target = _resolve(site, name, ref)
                    if not target.is_file() or site not in target.resolve().parents:
                        bad.append(f"{name}: {ref} is no file of the site")
                    elif parts.fragment and target.suffix == ".html" and \
                            parts.fragment not in pages[target.name].ids:
                        bad.append(f"{name}: {ref}: no id {parts.fragment!r} there")
        for tag, attrs in page.tags:
            if tag == "script" and "src" in attrs:
                bad.append(f"{name}: <script src={attrs['src']}>")
    assert not bad, "\n".join(bad[:20])


def test_no_script_style_or_font_from_the_network(pages):
    for name, page in pages.items():
        css = "\n".join(page.css)
        assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", css), name
        scripts = [a for t, a in page.tags if t == "script"]
        assert all("src" not in a for a in scripts), name
        # nor a script that adds one (the lab template's widget loader does)
        assert not [s for s in page.scripts if re.search(r"https?:|//cdn|unpkg|\.src\b", s)]
        assert all(a.get("href", "").startswith("data:") or not a.get("href", "").startswith(
            ("http", "//")) for t, a in page.tags if t == "link"), name
        assert not any(t == "iframe" for t, _ in page.tags), name


def test_links_between_lessons_point_to_their_pages(pages):
    """A link to NN-x.ipynb in a notebook's markdown is a link to NN-x.html on its page."""
    for path in LESSONS:
        nb = nbformat.read(path, as_version=4)
        source = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        expected = {m + ".html" for m in re.findall(r"\]\((\d\d-[^)#/]+)\.ipynb", source)}
        page = pages[f"{path.stem}.html"]
        links = {urlsplit(h).path for h in page.links()}
        assert expected <= links, (path.name, expected - links)
        assert not [h for h in page.links() if urlsplit(h).path.endswith(".ipynb")]


def test_each_page_links_the_previous_and_next_lessons_and_the_index(pages):
    names = [f"{p.stem}.html" for p in LESSONS]
    for i, name in enumerate(names):
        page = pages[name]
        assert "index.html" in page.links()
        assert page.links("prev") == ([names[i - 1]] * 2 if i else [])
        assert page.links("next") == ([names[i + 1]] * 2 if i + 1 < len(names) else [])


def test_stored_outputs_are_embedded_and_widgets_show_their_fallback(pages):
    for path in LESSONS:
        nb = nbformat.read(path, as_version=4)
        page = pages[f"{path.stem}.html"]
        raw = "".join(page.text)
        body = "".join(f'{t} {" ".join(f"{k}={v}" for k, v in a.items())}'
                       for t, a in page.tags)
        assert WIDGET_VIEW not in body and "widget-state+json" not in body, path.name
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for output in cell.outputs:
                data = output.get("data", {})
                if "image/png" in data:
                    png = data["image/png"].replace("\n", "")
                    assert any(a.get("src", "").endswith(png[-60:]) for t, a in page.tags
                               if t == "img"), (path.name, "a picture is missing")
                elif WIDGET_VIEW in data and "text/plain" in data:
                    assert data["text/plain"].strip() in raw, (path.name, data["text/plain"])


def _notebook(cells, path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nbformat.write(nb, path)


def test_a_small_course(tmp_path):
    """Two lessons written here: a link between them, a picture, a widget without a
    picture of its own, and a link to a lesson that is not there."""
    folder = tmp_path / "nb"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    widget = nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output(
        "execute_result", data={WIDGET_VIEW: {"model_id": "1", "version_major": 2,
                                              "version_minor": 0},
                                "text/plain": "Trace explorer: run this cell to use it"},
        execution_count=1)])
    _notebook([nbformat.v4.new_markdown_cell(
        "# 01 · One\n\nFirst. ![x](images/x.png)\n\n## Learning objectives\n\n1. Learn **a**.\n"
        "2. Learn b,\n   on two lines.\n\n**Time:** 5 minutes.\n\n"
        "Next: [two](02-two.ipynb#Part-2)"),
        widget], folder / "01-one.ipynb")
    _notebook([nbformat.v4.new_markdown_cell(
        "# 02 · Two\n\nSecond.\n\n## Part 2\n\nBack to [one](01-one.ipynb), on to "
        "[three](03-three.ipynb).")], folder / "02-two.ipynb")
    built = build_site(tmp_path / "out", notebooks=folder)
    assert built.pages == ("index.html", "01-one.html", "02-two.html")
    assert built.broken_links == ("02-two.html: 03-three.html",)
    one = Page((tmp_path / "out" / "01-one.html").read_text())
    assert "02-two.html#Part-2" in one.links()
    assert "Trace explorer: run this cell to use it" in "".join(one.text)
    assert any(a.get("src") == "images/x.png" for t, a in one.tags if t == "img")
    index = " ".join("".join(Page((tmp_path / "out" / "index.html").read_text()).text).split())
    assert "01 · One" in index and "5 minutes" in index and "Learn b, on two lines." in index


# ---------------------------------------------------------------- the command line
@pytest.mark.parametrize("argv, words", [
    ([], "name a command"),
    (["build-site"], "the following arguments are required: OUTDIR"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["build-site", "out", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_usage_is_refused_with_exit_code_2(capsys, argv, words):
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    assert code == 2
    err = capsys.readouterr().err
    assert words in err and "usage: python -m kubenet_lab" in err
    assert "Traceback" not in err


def test_missing_notebooks_are_refused(tmp_path, capsys):
    assert main(["build-site", str(tmp_path / "out"), "--notebooks",
                 str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "Notebooks directory" in err and "does not exist" in err and "--notebooks" in err
    (tmp_path / "empty").mkdir()
    assert main(["build-site", str(tmp_path / "out"), "--notebooks",
                 str(tmp_path / "empty")]) == 2
    assert "holds no lesson notebook" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_output_that_is_a_file_or_the_notebooks_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["build-site", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["build-site", str(NOTEBOOKS)]) == 2
    assert "is the notebooks folder" in capsys.readouterr().err


def test_the_module_runs_as_a_command_without_traceback(tmp_path):
    run = subprocess.run([sys.executable, "-m", "kubenet_lab", "build-site", str(tmp_path),
                          "--notebooks", str(tmp_path / "nope")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "Notebooks directory" in run.stderr
    assert len(run.stderr.splitlines()) == 1


def test_a_folder_that_cannot_be_made_is_a_short_error(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["build-site", str(tmp_path / "file" / "site")]) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err and "Traceback" not in err and len(err.splitlines()) == 1
