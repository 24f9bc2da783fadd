"""Output names: the --name template, {dir}, and names that stay inside --out."""

from __future__ import annotations

import os

import pytest

from thumbgen.errors import UsageError
from thumbgen.messages import display_path
from thumbgen.naming import check_template, relative_dir, render

DEFAULT = "{dir}/{stem}_{size}.{ext}"


def name(template: str = DEFAULT, source: str = "/p/photos/cat.jpeg", rel_dir: str = "") -> str:
    return render(
        template,
        source=source,
        rel_dir=rel_dir,
        size_label="256x256",
        width=256,
        height=171,
        ext="jpg",
    )


def test_default_template_at_top_level() -> None:
    assert name() == "cat_256x256.jpg"


def test_default_template_keeps_the_source_folder() -> None:
    assert name(rel_dir=os.path.join("2024", "june")) == os.path.join(
        "2024", "june", "cat_256x256.jpg"
    )


def test_every_placeholder() -> None:
    template = "{dir}/{name}/{stem}-{size}-{width}x{height}.{ext}"
    assert name(template, rel_dir="a") == os.path.join("a", "cat.jpeg", "cat-256x256-256x171.jpg")


def test_wildcards_for_the_clash_check() -> None:
    # The queue renders names before decoding, with "*" for what it cannot know yet.
    text = render(
        "{stem}_{width}x{height}.{ext}",
        source="a/cat.jpg",
        rel_dir="",
        size_label="256x256",
        width="*",
        height="*",
        ext="*",
    )
    assert text == "cat_*x*.*"


@pytest.mark.parametrize("stem", ["..notes", "..2024 trip", ".hidden"])
def test_dotted_names_are_not_mistaken_for_parent_folders(stem: str) -> None:
    assert name(source=f"/p/{stem}.jpg") == f"{stem}_256x256.jpg"


@pytest.mark.parametrize("rel_dir", ["..", os.path.join("..", "x"), os.path.join("a", "..", "..")])
def test_names_cannot_leave_the_output_folder(rel_dir: str) -> None:
    with pytest.raises(UsageError, match="outside the output folder"):
        name(rel_dir=rel_dir)


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{stem}.{colour}", "unknown placeholder {colour}"),
        ("{}.jpg", "unknown placeholder {}"),
        ("{stem.upper}.jpg", "unknown placeholder {stem.upper}"),
        ("{size}.{ext}", "must contain {stem} or {name}"),
        ("/abs/{stem}.{ext}", "relative to the output folder"),
        ("../{stem}.{ext}", "outside the output folder"),
        ("{stem}_{width:04d}.{ext}", "without ':' or '!' formatting"),
        ("{stem!r}.{ext}", "without ':' or '!' formatting"),
        ("{stem", "Invalid --name"),
    ],
)
def test_check_template_rejects(template: str, words: str) -> None:
    with pytest.raises(UsageError) as info:
        check_template(template)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("template", [DEFAULT, "{name}.{ext}", "thumbs/{dir}/{stem}@{width}.{ext}"])
def test_check_template_accepts(template: str) -> None:
    check_template(template)


@pytest.mark.parametrize(
    ("source", "root", "rel"),
    [
        ("/r/a.jpg", "/r", ""),
        ("/r/x/y/a.jpg", "/r", os.path.join("x", "y")),
        ("/r/..x/a.jpg", "/r", "..x"),
        # a file given directly, or outside its root: top level
        ("/r/a.jpg", "/r/a.jpg", ""),
        ("/elsewhere/a.jpg", "/r", ""),
    ],
)
def test_relative_dir(source: str, root: str, rel: str) -> None:
    assert relative_dir(source, root) == rel


def test_relative_dir_of_relative_paths(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(str(tmp_path))
    assert relative_dir(os.path.join("pics", "b", "a.jpg"), "pics") == "b"


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/p/cat.jpg", "/p/cat.jpg"),
        ("/p/café é.jpg", "/p/café é.jpg"),
        ("/p/two\nlines.jpg", "/p/two\\nlines.jpg"),
        ("/p/tab\t.jpg", "/p/tab\\t.jpg"),
        ("/p/\udcff.jpg", "/p/\\udcff.jpg"),
    ],
)
def test_display_path_keeps_messages_on_one_line(path: str, shown: str) -> None:
    assert display_path(path) == shown
