"""The stored notebooks are what a reader on GitHub sees: clean outputs, no machine paths, no widget blobs."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
ABSOLUTE = re.compile(r"(?<![\w.])/(?:work|root|home|tmp|Users|scratch|mnt|private)/|PosixPath\(|[A-Z]:\\\\Users")


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        for key, value in out.get("data", {}).items():
            if key.startswith("text") or key.endswith("json"):
                parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_outputs_are_clean(path):
    nb = json.loads(path.read_text())
    assert path.stat().st_size < 1_000_000, "over 1 MB: embedded media or widget state"
    assert len(json.dumps(nb.get("metadata", {}).get("widgets", {}))) < 5_000, "widget state stored"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        text = _outputs_text(cell)
        assert not ABSOLUTE.search(text), f"cell {i} shows a machine's path: {ABSOLUTE.search(text).group(0)}"
        assert not re.search(r"(?<!\d)0%\|", text), f"cell {i} stores a progress bar at 0%"
        assert "\r" not in text, f"cell {i} stores progress-bar redraws"
        if cell.get("outputs"):
            assert cell.get("execution_count") is not None, f"cell {i} has outputs but no execution count"


def test_the_cleaner_removes_what_this_test_forbids():
    """scripts/run_notebooks.py's cleaner, on a made-up notebook with every fault."""
    import importlib.util

    import nbformat

    spec = importlib.util.spec_from_file_location("run_nb", Path(__file__).resolve().parents[1] / "scripts/run_notebooks.py")
    run_nb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_nb)
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": "x" * 100_000}
    cell = nbformat.v4.new_code_cell("x", execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="epoch 1:   0%|  | 0/10\repoch 1: 100%|##| 10/10\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "PosixPath('/work/main/figures/a.png')"}, execution_count=1),
        nbformat.v4.new_output("display_data", data={run_nb.WIDGET: {"model_id": "abc"}, "text/plain": "  0%|  | 0/10"}),
    ]
    nb.cells.append(cell)
    run_nb.clean(nb, ["/work/main", "/work"])
    text = _outputs_text(nb.cells[0])
    assert "widgets" not in nb.metadata and "\r" not in text and "0%|" not in text.replace("100%|", "")
    assert "/work" not in text and "figures/a.png" in text


def test_running_a_notebook_that_is_not_there_says_so_before_running_any(monkeypatch, capsys, tmp_path):
    import nbformat
    from conftest import script

    run_nb = script("run_notebooks")
    there = tmp_path / "there.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), there)
    before = there.read_bytes()
    monkeypatch.setattr("sys.argv", ["run_notebooks.py", str(there), "notebooks/05_nope.ipynb"])
    with pytest.raises(SystemExit) as stop:
        run_nb.main()
    assert stop.value.code == 2 and "no such notebook: notebooks/05_nope.ipynb" in capsys.readouterr().err
    assert there.read_bytes() == before  # not run
