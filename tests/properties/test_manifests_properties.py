"""``apply`` takes anything a user may hand it: a valid manifest of every kind is applied,
a broken one (a field of the wrong type, missing or unknown fields, deep or cyclic
structures, bad YAML tags, aliases) is refused with the package's own error and leaves
the cluster as it was."""

from __future__ import annotations

from pathlib import Path

import fuzz
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import kubenet_lab as kl


@pytest.mark.parametrize("doc", fuzz.VALID, ids=lambda d: d["kind"])
def test_every_valid_manifest_is_applied(doc):
    c = fuzz.base_cluster()
    [obj] = fuzz.attempt(c, lambda: c.apply(doc), doc["kind"])
    assert obj is not None
    # and as YAML text, the same object
    c2 = fuzz.base_cluster()
    assert fuzz.attempt(c2, lambda: c2.apply(yaml.safe_dump(doc)), doc["kind"]) == [obj]


@given(fuzz.broken_manifests())
def test_a_broken_manifest_is_refused_or_applied_never_crashes(doc):
    c = fuzz.base_cluster()
    fuzz.attempt(c, lambda: c.apply(doc), "apply(dict)")


@given(fuzz.broken_yaml())
def test_broken_yaml_is_refused_or_applied_never_crashes(text):
    c = fuzz.base_cluster()
    fuzz.attempt(c, lambda: c.apply(text), "apply(yaml)")


@given(st.lists(st.one_of(fuzz.broken_manifests(), st.sampled_from(fuzz.VALID)),
                min_size=2, max_size=4))
def test_a_list_with_one_broken_manifest_applies_nothing(docs):
    c = fuzz.base_cluster()
    fuzz.attempt(c, lambda: c.apply(docs), "apply(list)")


@given(fuzz.odd_values())
def test_anything_at_all_is_refused_or_applied(src):
    c = fuzz.base_cluster()
    fuzz.attempt(c, lambda: c.apply(src), "apply(odd)")


@given(st.sampled_from(["x" * 5000 + ".yaml", "/dev/null.yaml", "/etc/shadow.yaml",
                        "no/such/file.yaml", "\x00.yaml", "bin", "notutf8", "dir", "big"]))
def test_odd_paths_are_refused_with_the_path_named(tmp_path_factory, name):
    tmp: Path = tmp_path_factory.mktemp("m")
    special = {"bin": tmp / "bin.yaml", "notutf8": tmp / "latin1.yaml", "dir": tmp / "d.yaml",
               "big": tmp / "big.yaml"}
    special["bin"].write_bytes(b"\x00\x01\xff" * 10)
    special["notutf8"].write_bytes("kind: Namespace\nmetadata: {name: caf\xe9}\n".encode("latin-1"))
    special["dir"].mkdir()
    special["big"].write_text("kind: Namespace\nmetadata: {name: big}\n# " + "x" * (4 << 20))
    src = special.get(name, name)
    c = fuzz.base_cluster()
    fuzz.attempt(c, lambda: c.apply(src), "apply(path)")
    with pytest.raises(kl.KubenetLabError):
        c.apply(src)
