"""What a user sees in JupyterLab, in a real browser: the progress widgets as drawn.

One JupyterLab server and one Chromium for the module (tests/browser.py); each test opens a
notebook of its own with a kernel of its own, runs it through the Run menu, and reads the
DOM: the bar's value is its CSS width, its style the ``progress-bar-*`` class, the label its
text, and the label's text extent is compared with the output area's box.  Screenshots go
to ``GLUE_MAGICS_SCREENSHOTS`` if set, else a pytest temporary folder; each test prints
where.  ``GLUE_MAGICS_UPDATE_DOCS=1`` also rewrites docs/widget-jupyterlab.png from the wide
session test.

Skips, saying why, without Debian's Chromium, jupyterlab or playwright; fails instead when
``CI=true`` (.ci/run installs them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from browser import (
    MIN_BAR_PX,
    JupyterLab,
    Notebook,
    check_installed,
    chromium,
    percent,
    setup_cell,
    stderr_of,
    stdout_of,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

DOCS_PICTURE = Path(__file__).resolve().parent.parent / "docs" / "widget-jupyterlab.png"
#: Seconds the embedded endpoint takes to provision: long enough to see the bar rise.
PROVISION = 5.0
#: Guards against a hang, not timing (a loaded 2-core machine is slow).
PATIENCE = 120.0
#: A Spark Connect session starts a JVM: 15-30 s here, more under load.
SPARK_PATIENCE = 400.0
HEIGHT = 900

# A cell has settled once its prompt shows a number, or once no cell is running (Run All
# stops at a failed cell): conditions end there too, so a failure shows at once.
SETTLED = r"""(cells, i) => /\[\d+\]/.test((cells[i] || {}).prompt || '')
  || !cells.some((c) => /\[\*\]/.test(c.prompt))"""

# (cells, i) => the first bar of cell i is green with READY, or cell i settled without.
READY_OR_SETTLED = f"""(cells, i) => {{
  const bar = cells[i] && cells[i].bars[0];
  if (bar && bar.classes.includes('progress-bar-success') && /READY/.test(bar.label || ''))
    return {{ready: true}};
  return ({SETTLED})(cells, i) && {{ready: false}};
}}"""

# (cells, i) => cell i shows a progress bar with its label (the widget is drawn empty first,
# its label set just after), or settled without one.
BAR_OR_SETTLED = f"""(cells, i) => {{
  const bar = cells[i] && cells[i].bars[0];
  if (bar && (bar.label || '').trim()) return {{bar}};
  return ({SETTLED})(cells, i) && {{bar: null}};
}}"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, for the module."""
    check_installed()
    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def lab(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """One JupyterLab on loopback for all the tests; its kernels see this checkout's code."""
    server = JupyterLab(tmp_path_factory.mktemp("jupyterlab")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: ``GLUE_MAGICS_SCREENSHOTS``, else a temporary folder."""
    chosen = os.environ.get("GLUE_MAGICS_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("browser-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def opened(
    lab: JupyterLab, browser: Any, shots: Path, name: str, cells: list[str], width: int = 1280
) -> Iterator[Notebook]:
    """A notebook with its own kernel, open in a window ``width`` px wide."""
    print(f"screenshots of {name}: {shots}")
    with lab.notebook(f"{name}.ipynb", cells) as url:
        context = browser.new_context(viewport={"width": width, "height": HEIGHT})
        try:
            yield Notebook(context.new_page(), shots, name).open(url)
        finally:
            context.close()


def settled(nb: Notebook, cell: int, timeout: float = PATIENCE) -> dict[str, Any]:
    """Wait for ``cell`` to finish; return it as shown, with what every cell put on stderr."""
    nb.wait_until(SETTLED, cell, timeout=timeout)
    cells = nb.cells()
    return {**cells[cell], "stderr": stderr_of(cells)}


def assert_ready_widget(nb: Notebook, cell: int, timeout: float) -> dict[str, Any]:
    """The bar of ``cell`` rose through >= 3 values, never back, to 100, green, READY;
    returns the bar as drawn at READY (with its geometry)."""
    final = nb.wait_until(READY_OR_SETTLED, cell, timeout=timeout)
    assert final["ready"], nb.cells()
    [bar] = nb.cells()[cell]["bars"]
    history = nb.history(cell)
    values = [v for v in (percent(s["width"]) for s in history) if v is not None]
    seen = [(s["width"], s["classes"], s["label"]) for s in history]
    assert len(set(values)) >= 3, seen
    assert values == sorted(values), seen
    assert values[-1] == 100, seen
    assert history[-1]["classes"] == ["progress-bar-success"], seen
    return bar


def assert_label_fits(bar: dict[str, Any], shot: Path) -> None:
    """The bar is wide enough to read and the label's text lies inside both the label
    widget and the output area: not past the edge, not cut off by the widget's overflow."""
    assert bar["bar"]["width"] >= MIN_BAR_PX, (bar, shot)
    text, label, area = bar["text"], bar["labelBox"], bar["area"]
    assert area["left"] - 1 <= text["left"] and text["right"] <= area["right"] + 1, (bar, shot)
    assert label["left"] - 1 <= text["left"] and text["right"] <= label["right"] + 1, (bar, shot)


#: The label at READY; the defaults are 5 G.1X workers of 1 DPU at $0.44 a DPU-hour.
READY_LABEL = re.compile(r"READY in \d+(\.\d)? s  5 DPU, ~\$2\.20/h  Glue session \S+")


@pytest.mark.parametrize("width", [800, 1600])
def test_session_bar_rises_and_ends_green_at_ready_with_time_and_cost(lab, browser, shots, width):
    cells = ["\n".join([*setup_cell(PROVISION), "%glue_session"])]
    with opened(lab, browser, shots, f"session-{width}px", cells, width) as nb:
        nb.screenshot("opened")
        nb.run_all()
        bar = assert_ready_widget(nb, 0, PATIENCE)
        shot = nb.screenshot("ready")
        assert READY_LABEL.fullmatch(bar["label"].strip()), bar["label"]
        assert_label_fits(bar, shot)
        if width == 1600 and os.environ.get("GLUE_MAGICS_UPDATE_DOCS") == "1":
            write_docs_picture(nb)
        cell = settled(nb, 0)
        assert cell["prompt"].strip() == "[1]:" and cell["stderr"] == [], cell


def write_docs_picture(nb: Notebook) -> None:
    """README's picture: the first cell, its code and the READY widget, cropped to it."""
    cell = nb.page.locator(".jp-Notebook .jp-CodeCell").first.bounding_box()
    pad = 8
    clip = {
        "x": cell["x"] - pad,
        "y": cell["y"] - pad,
        "width": cell["width"] + 2 * pad,
        "height": cell["height"] + 2 * pad,
    }
    DOCS_PICTURE.parent.mkdir(exist_ok=True)
    nb.page.screenshot(path=str(DOCS_PICTURE), clip=clip)
    print(f"wrote {DOCS_PICTURE}")


def test_statement_shows_a_bar_while_it_runs_then_prints(lab, browser, shots):
    cells = [
        "\n".join([*setup_cell(1), "%glue_session"]),
        "%%glue\nimport time\ntime.sleep(2)\nprint(42)",
    ]
    with opened(lab, browser, shots, "statement", cells) as nb:
        nb.run_all()
        nb.wait_until(BAR_OR_SETTLED, 1, timeout=PATIENCE)
        nb.screenshot("running")
        cell = settled(nb, 1)
        nb.screenshot("done")
        # Every state the bar showed, recorded in the page as drawn (it may have been up for
        # under a second on a loaded machine).
        labels = [s["label"].strip() for s in nb.history(1) if (s["label"] or "").strip()]
        shown = r"(WAITING|RUNNING|AVAILABLE) \d+%  [\d.]+ s  statement \d+"
        assert [x for x in labels if not re.fullmatch(shown, x)] == [], labels
        assert any(x.startswith("RUNNING") for x in labels), labels
        assert cell["bars"] == [], "the bar is removed once the statement succeeded"
        assert stdout_of(cell).split() == ["42"], cell
        assert cell["stderr"] == [], cell


@pytest.mark.timeout(SPARK_PATIENCE + 120)
def test_spark_connect_session_reaches_ready_and_spark_runs_in_a_plain_cell(lab, browser, shots):
    from test_spark_connect_kernel import needs_spark_connect

    needs_spark_connect()
    cells = [
        "\n".join([*setup_cell(0.1), "%glue_session --session-type spark_connect"]),
        "spark.range(5).count()",
    ]
    with opened(lab, browser, shots, "spark-connect", cells) as nb:
        nb.run_all()
        bar = assert_ready_widget(nb, 0, SPARK_PATIENCE)
        nb.screenshot("ready")
        assert READY_LABEL.fullmatch(bar["label"].strip()), bar["label"]
        session = settled(nb, 0)
        assert "`spark` is bound here" in stdout_of(session), session
        # pyspark 4 warns on stderr under pandas 3 (FutureWarning): shown, not asserted on.
        counted = settled(nb, 1)
        nb.screenshot("counted")
        assert counted["prompt"].strip() == "[2]:", counted
        assert stdout_of(counted).strip() == "5", counted
