from __future__ import annotations

from pathlib import Path

import pytest

from deskpilot.core.errors import InvalidInput
from deskpilot.feedback.insights.evaluation import agreement, read_labelled_csv


def test_agreement_perfect_renamed_and_unrelated() -> None:
    labels = ["a", "a", "b", "b", "c", "c"]
    perfect = agreement(labels, [5, 5, 1, 1, 2, 2])
    assert perfect.nmi == pytest.approx(1.0)
    assert perfect.ari == pytest.approx(1.0)
    assert (perfect.texts, perfect.labels, perfect.themes, perfect.unthemed) == (6, 3, 3, 0)
    unrelated = agreement(labels, [0, 1, 0, 1, 0, 1])
    assert unrelated.nmi < 0.1
    assert unrelated.ari < 0.1
    # Texts in no theme are one more group: leaving texts out costs agreement.
    partial = agreement(labels, [0, 0, 1, -1, 2, -1])
    assert partial.unthemed == 2
    assert partial.themes == 3
    assert partial.ari < 1.0
    with pytest.raises(ValueError, match="2 labels but 1"):
        agreement(["a", "b"], [0])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_labelled_csv(tmp_path: Path) -> None:
    first = write(
        tmp_path / "a.csv", "\ufeffbody,topic,other\nrefund please,refund,x\n,refund,x\nlate parcel,delivery,y\n"
    )
    second = write(tmp_path / "b.csv", 'body,topic\n"multi\nline, text",delivery\nno label,\n')
    data = read_labelled_csv([first, second], text_column="body", label_column="topic")
    assert data.texts == ["refund please", "late parcel", "multi\nline, text"]
    assert data.labels == ["refund", "delivery", "delivery"]
    limited = read_labelled_csv([first, second], text_column="body", label_column="topic", limit=2)
    assert limited.texts == ["refund please", "late parcel"]


@pytest.mark.parametrize(
    ("content", "text_column", "label_column", "field", "message"),
    [
        (None, "body", "topic", "csv", "does not exist"),
        ("", "body", "topic", "csv", "is empty"),
        ("body,topic\n", "body", "topic", "csv", "no rows with both 'body' and 'topic'"),
        (
            "body,topic\nx,y\n",
            "text",
            "topic",
            "text_column",
            "no column 'text' in data.csv (columns: 'body', 'topic')",
        ),
        ("body,topic\nx,y\n", "body", "intent", "label_column", "no column 'intent'"),
    ],
)
def test_read_errors_name_the_field(
    tmp_path: Path, content: str | None, text_column: str, label_column: str, field: str, message: str
) -> None:
    path = tmp_path / "data.csv"
    if content is not None:
        write(path, content)
    with pytest.raises(InvalidInput) as caught:
        read_labelled_csv(path, text_column=text_column, label_column=label_column)
    assert list(caught.value.errors) == [field]
    assert message in caught.value.errors[field]


def test_read_errors_for_binary_files_directories_and_limits(tmp_path: Path) -> None:
    binary = tmp_path / "data.csv"
    binary.write_bytes(b"body,topic\n\xff\xfe\x00bad,x\n")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_labelled_csv(binary, text_column="body", label_column="topic")
    with pytest.raises(InvalidInput, match="not a file"):
        read_labelled_csv(tmp_path, text_column="body", label_column="topic")
    with pytest.raises(InvalidInput, match="limit: must be at least 1"):
        read_labelled_csv(binary, text_column="body", label_column="topic", limit=0)
    with pytest.raises(InvalidInput, match="at least one CSV"):
        read_labelled_csv([], text_column="body", label_column="topic")
