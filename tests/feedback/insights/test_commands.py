"""``deskpilot insights evaluate``: figures on a good run; one line naming the argument and exit
status 2 on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskpilot import cli
from deskpilot.feedback.insights import embedding


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def evaluate_args(csv: Path, *extra: str) -> list[str]:
    return ["insights", "evaluate", "--csv", str(csv), "--text-column", "utterance", "--label-column", "intent", *extra]


def test_evaluate_prints_nmi_ari_and_themes(bitext_files: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    # The validation file (810 utterances, 27 intents) with the fallback: a few seconds.
    status, out, err = run(evaluate_args(bitext_files[1], "--backend", "tfidf"), capsys)
    assert status == 0, err
    assert "Backend: tfidf" in out
    assert "Texts: 810 with 27 labels" in out
    nmi = float(out.split("NMI: ")[1].split()[0])
    ari = float(out.split("ARI: ")[1].split()[0])
    assert 0.5 < nmi <= 1.0
    assert 0.2 < ari <= 1.0
    assert "Largest themes" in out
    assert not any(
        char.isdigit() for line in out.splitlines() if line.startswith("  ") for char in line.split("—")[0][9:]
    )


def test_evaluate_limit_and_several_files(bitext_files: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    argv = evaluate_args(bitext_files[1], "--csv", str(bitext_files[2]), "--backend", "tfidf", "--limit", "1000")
    status, out, err = run(argv, capsys)
    assert status == 0, err
    assert "Texts: 1,000 with 27 labels" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--csv", "{missing}", "--text-column", "utterance", "--label-column", "intent"],
            "--csv: '{missing}' does not exist",
        ),
        (["--csv", "{good}", "--text-column", "text", "--label-column", "intent"], "--text-column: no column 'text'"),
        (
            ["--csv", "{good}", "--text-column", "utterance", "--label-column", "label"],
            "--label-column: no column 'label'",
        ),
        (["--csv", "{good}", "--label-column", "intent"], "--text-column: required"),
        (["--text-column", "utterance", "--label-column", "intent"], "--csv: required"),
        (
            ["--csv", "{good}", "--text-column", "utterance", "--label-column", "intent", "--backend", "bert"],
            "--backend: expected one of auto, embedding, tfidf",
        ),
        (
            ["--csv", "{good}", "--text-column", "utterance", "--label-column", "intent", "--limit", "0"],
            "--limit: must be at least 1",
        ),
        (
            ["--csv", "{good}", "--text-column", "utterance", "--label-column", "intent", "--limit", "ten"],
            "--limit: expected a whole number",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_argument_with_status_2(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("utterance,intent\nrefund please,refund\n", encoding="utf-8")
    values = {"missing": str(tmp_path / "nope.csv"), "good": str(good)}
    status, out, err = run(["insights", "evaluate", *(arg.format(**values) for arg in argv)], capsys)
    assert status == 2
    assert err.strip().splitlines() == [f"error: {expected.format(**values)}"] or err.startswith(
        f"error: {expected.format(**values)}"
    )
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert out == ""


def test_missing_action(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["insights"], capsys)
    assert status == 2
    assert "missing action" in err


def test_embedding_backend_without_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedding, "embedding_available", lambda: False)
    good = tmp_path / "good.csv"
    good.write_text("utterance,intent\nrefund please,refund\n", encoding="utf-8")
    status, _, err = run(evaluate_args(good, "--backend", "embedding"), capsys)
    assert status == 2
    assert err.startswith("error: --backend: the embedding model is not installed")


def test_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert "insights analyze | recluster | evaluate --csv FILE" in capsys.readouterr().out
