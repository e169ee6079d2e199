"""The package's YAML data files: typed loading, one-line errors that name the file and field, packaging."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path
from types import MappingProxyType

import pytest

from paperdcat.corpus import generated
from paperdcat.corpus.catalogue import CATALOGUE, CATALOGUE_FILE, CatalogueEntry, load_catalogue
from paperdcat.datafile import DataFile
from paperdcat.dcat import vocabularies
from paperdcat.errors import PaperdcatError

ROOT = Path(__file__).resolve().parent.parent


def error_of(load, path: Path) -> str:
    with pytest.raises(PaperdcatError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------------------ DataFile
def test_values_convert_to_the_declared_types(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("a: [x, y]\nb: 3\nc: {k: [[p, q]]}\n", encoding="utf-8")
    file = DataFile(path)
    forms = {"a": tuple[str, ...], "b": int, "c": dict[str, tuple[tuple[str, str], ...]]}
    assert file.fields(file.data, forms) == {"a": ("x", "y"), "b": 3, "c": {"k": (("p", "q"),)}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [x, 1.5]\nb: 3\n", "d.yaml: a[1]: expected a string, got float 1.5 (quote it"),
        ("a: [x, no]\nb: 3\n", "d.yaml: a[1]: expected a string, got bool False (quote it"),
        ("a: [x]\nb: true\n", "d.yaml: b: expected an integer, got bool True"),
        ("a: x\nb: 3\n", "d.yaml: a: expected a list, got str 'x'"),
        ("a: [x]\n", "d.yaml: missing field(s) b"),
        ("a: [x]\nb: 3\nc: 4\n", "d.yaml: unknown field(s) c"),
        ("a: [x]\nb: 3\na: [y]\n", "d.yaml: line 3: duplicate key 'a'"),
        ("a: [x\nb: 3\n", "d.yaml: line 2:"),
    ],
)
def test_bad_values_stop_with_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(text, encoding="utf-8")

    def load(path: Path) -> None:
        file = DataFile(path)
        file.fields(file.data, {"a": tuple[str, ...], "b": int})

    assert expected in error_of(load, path)


# ------------------------------------------------------------------------------------------ catalogue
def test_catalogue_values_are_typed() -> None:
    assert isinstance(CATALOGUE, tuple) and all(isinstance(entry, CatalogueEntry) for entry in CATALOGUE)
    squad = CATALOGUE[0]
    assert squad.title == "SQuAD" and squad.year == 2016 and squad.version == "1.1"
    assert squad.creators[:2] == ("Pranav Rajpurkar", "Jian Zhang")
    assert squad.doi == "10.48550/arXiv.1606.05250" and squad.theme == ("Natural Language Processing",)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("year: 2016", "year: 20l6", "record 1 (SQuAD): year: expected an integer, got str '20l6'"),
        ('version: "1.1"', "version: 1.1", "record 1 (SQuAD): version: expected a string, got float 1.1"),
        (
            "  venue: EMNLP\n",
            "  venu: EMNLP\n",
            "record 1 (SQuAD): unknown field(s) venu; missing field(s) venue",
        ),
        ("area: rl", "area: robotics", "area: 'robotics' is not one of nlp, vision"),
        ("title: SQuAD 2.0", "title: SQuAD", "record 2 (SQuAD): title: an earlier record has the same title"),
    ],
)
def test_a_bad_catalogue_record_is_named(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = CATALOGUE_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "catalogue.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert error_of(load_catalogue, path).startswith(f"{path}: ")
    assert expected in error_of(load_catalogue, path)


def test_package_files_are_named_from_the_package_root() -> None:
    assert DataFile(CATALOGUE_FILE).name == "paperdcat/corpus/data/catalogue.yaml"


# ------------------------------------------------------------------------------------------ packaging
def test_every_data_file_ships_with_the_package() -> None:
    """Each YAML file under paperdcat/ matches a package-data pattern of its package in pyproject.toml."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = declared["package-data"]
    files = sorted((ROOT / "paperdcat").rglob("*.yaml"))
    assert files
    for path in files:
        package_dir = next(p for p in path.parents if (p / "__init__.py").exists())
        package = ".".join(package_dir.relative_to(ROOT).parts)
        relative = path.relative_to(package_dir).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns.get(package, [])), relative


def test_top_level_keys_are_taken_once_each(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("a: [x]\nb: [y]\n", encoding="utf-8")
    file = DataFile(path)
    assert file.take("a") == ("x",)
    with pytest.raises(PaperdcatError, match=r"d\.yaml: unknown field\(s\) b$"):
        file.refuse_untaken()
    with pytest.raises(PaperdcatError, match=r"d\.yaml: c: missing$"):
        file.take("c")


# ------------------------------------------------------------------------------------------ phrases
def test_phrase_lists_keep_their_types() -> None:
    assert all(
        isinstance(pool, tuple) and pool for pool in (generated.ADJECTIVES, generated.METHOD_SENTENCES)
    )
    assert generated.METHOD_REFERENCES["adam"] == (
        ("Diederik P. Kingma", "Jimmy Ba"),
        2015,
        "Adam: A Method for Stochastic Optimization",
        "ICLR",
    )
    first = generated.STRUCTURES[0]
    assert first[0] == ("intro", "Introduction", ())
    assert ("exp", "Experiments", (("data", "Datasets"), ("impl", "Implementation Details"))) in first
    assert generated.AREA_PROFILES["nlp"].venues[:2] == ("ACL", "EMNLP")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s: [[[intro]]]\n", "s[0][0]: expected [kind, heading] or [kind, heading, [[kind, heading], ...]]"),
        ("s: [[[exp, Experiments, [[data]]]]]\n", "s[0][0][2][0]: expected 2 items, got 1"),
        (
            "s: [[[intro, 3]]]\n",
            "s[0][0][1]: expected a string, got int 3 (quote it: YAML reads unquoted numbers",
        ),
    ],
)
def test_a_bad_paper_layout_is_named(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "phrases.yaml"
    path.write_text(text, encoding="utf-8")
    form = tuple[tuple[generated._layout_section, ...], ...]
    assert error_of(lambda p: DataFile(p).take("s", form), path).startswith(f"{path}: {expected}")


def test_a_bad_method_reference_is_named(tmp_path: Path) -> None:
    path = tmp_path / "phrases.yaml"
    path.write_text(
        "m: {adam: {creators: [D. Kingma], year: '2015', title: Adam, venue: ICLR}}\n", encoding="utf-8"
    )
    message = error_of(lambda p: DataFile(p).take("m", generated._method_references), path)
    assert message == f"{path}: m: adam: year: expected an integer, got str '2015'"


# ------------------------------------------------------------------------------------------ vocabularies
def test_vocabulary_tables_keep_their_types() -> None:
    assert isinstance(vocabularies.LANGUAGES, MappingProxyType)
    assert vocabularies.LANGUAGES["no"] == "NOR" and vocabularies.LANGUAGES["english"] == "ENG"
    assert vocabularies.FILE_TYPES["7 zip"] == "7Z" and vocabularies.DCMI_TYPES["photos"] == "StillImage"
    assert vocabularies.DCMI_TYPE_LABELS["StillImage"] == "Still Image"
    assert isinstance(vocabularies.FORMAT_FILLER, frozenset) and "files" in vocabularies.FORMAT_FILLER


def test_a_name_of_two_codes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vocabularies.yaml"
    path.write_text("languages: {DEU: [german, de], NLD: [dutch, de]}\n", encoding="utf-8")
    file = DataFile(path)
    table = file.take("languages", dict[str, tuple[str, ...]])
    with pytest.raises(PaperdcatError, match=r"vocabularies\.yaml: languages: 'de' names both DEU and NLD$"):
        vocabularies._invert(file, "languages", table)
