"""notebooks/quickstart.ipynb runs from top to bottom on a tiny self-made corpus."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"
KERNEL = "spamclf-test-venv"


def _write_corpus(folder: Path, messages: list[bytes], labels: list[str]) -> None:
    for i, (message, label) in enumerate(zip(messages, labels, strict=True)):
        (folder / label).mkdir(parents=True, exist_ok=True)
        (folder / label / f"{i:03d}.eml").write_bytes(message)


def _kernel_for_this_python(jupyter_path: Path) -> None:
    """A kernel spec that runs this interpreter (the project's virtualenv), not whatever
    ``python3`` kernel the machine may have registered."""
    spec = jupyter_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "spamclf tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))


def _text_outputs(notebook) -> str:  # type: ignore[no-untyped-def]
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def test_quickstart_notebook_runs_on_a_small_corpus(
    tmp_path: Path, corpus: tuple[list[bytes], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_corpus(tmp_path / "corpus", *corpus)
    _kernel_for_this_python(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("QUICKSTART_CORPUS", str(tmp_path / "corpus"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    text = _text_outputs(notebook)
    assert "56 training and 24 test messages" in text  # 80 messages, cut 70/30
    assert "(1-AUC) %" in text  # the evaluation table
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert images, "the ROC curve was not drawn"
