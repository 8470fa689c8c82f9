"""Every public entry point, called with generated arguments (plausible ones, odd ones of
every type, missing and unknown ones): it answers, or refuses with the package's own
error, a short message that names what is wrong, and a cluster left as it was."""

from __future__ import annotations

import inspect

import fuzz
import matplotlib.pyplot as plt
from hypothesis import given
from hypothesis import strategies as st

import kubenet_lab as kl

#: ``Cluster``'s methods (properties aside).
METHODS = sorted(name for name, fn in inspect.getmembers(kl.Cluster, inspect.isfunction)
                 if not name.startswith("_"))
#: The ``kl.*`` functions, and the classes a learner builds by hand.
FUNCTIONS = sorted(name for name in kl.__all__ if inspect.isfunction(getattr(kl, name)))
RECORDS = ["Container", "ContainerPort", "Toleration", "ServicePort", "Flow"]
WIDGETS = ["TraceExplorer", "TraceStepper", "PolicyPlayground"]
#: What needs the example's own result objects in its pool of plausible arguments.
NEEDS_OBJECTS = {"trace", "r", "report", "old", "new"}


def _pool(c: kl.Cluster, fn) -> dict:
    pool = dict(fuzz.PLAUSIBLE, cluster=[c, c.store.snapshot()])
    if NEEDS_OBJECTS & set(inspect.signature(fn).parameters):
        pool.update(fuzz.objects(c))
    return pool


def test_the_suite_covers_the_whole_public_api():
    """A new public name is fuzzed from the day it exists (or this fails)."""
    assert {"apply", "trace", "exec", "add_pod", "add_service", "reachability"} <= set(METHODS)
    assert {"draw_trace", "draw_cluster", "kubectl_command", "broken_cluster"} <= set(FUNCTIONS)
    for name in FUNCTIONS + [f"Cluster.{m}" for m in METHODS]:
        obj = getattr(kl.Cluster, name.split(".")[1]) if "." in name else getattr(kl, name)
        assert hasattr(obj, "__wrapped__"), f"{name} does not check its arguments (@checked)"


@given(st.sampled_from(METHODS), st.data())
def test_every_cluster_method(name, data):
    c = fuzz.base_cluster()
    method = getattr(kl.Cluster, name)
    kwargs = data.draw(fuzz.arguments(method, _pool(c, method)), label="kwargs")
    fuzz.attempt(c, lambda: getattr(c, name)(**kwargs), f"Cluster.{name}")


@given(st.data())
def test_the_cluster_constructor(data):
    kwargs = data.draw(fuzz.arguments(kl.Cluster.__init__, fuzz.PLAUSIBLE), label="kwargs")
    fuzz.attempt(None, lambda: kl.Cluster(**kwargs), "Cluster()")


@given(st.sampled_from(FUNCTIONS), st.data())
def test_every_kl_function(name, data):
    c = fuzz.base_cluster()
    fn = getattr(kl, name)
    kwargs = data.draw(fuzz.arguments(fn, _pool(c, fn)), label="kwargs")
    try:
        fuzz.attempt(c, lambda: fn(**kwargs), f"kl.{name}")
    finally:
        plt.close("all")


@given(st.sampled_from(RECORDS + WIDGETS), st.data())
def test_records_and_widgets(name, data):
    c = fuzz.base_cluster()
    cls = getattr(kl, name)
    kwargs = data.draw(fuzz.arguments(cls, _pool(c, cls.__init__)), label="kwargs")
    try:
        fuzz.attempt(c, lambda: cls(**kwargs), f"kl.{name}")
    finally:
        plt.close("all")


@given(st.sampled_from(sorted(kl.exercises._ALL) + ["9.9"]),
       st.one_of(fuzz.odd_values(), st.sampled_from(fuzz.PLAUSIBLE["src"])),
       st.sampled_from(["cluster", None, "text", 5]))
def test_exercise_checks(key, answer, context):
    c = fuzz.base_cluster()
    ctx = c if context == "cluster" else context
    fuzz.attempt(c, lambda: kl.exercise(key).check(answer, ctx), f"exercise {key}")


@given(st.sampled_from(fuzz.PLAUSIBLE["where"]),
       st.lists(st.sampled_from(fuzz.SHELL_WORDS), min_size=1, max_size=8))
def test_the_shell_answers_every_command_line_with_text(where, words):
    """A shell never raises: bad usage gets the real tool's usage line or error text."""
    c = fuzz.base_cluster()
    line = " ".join(words)
    out = fuzz.attempt(None, lambda: c.exec(where, line), f"exec {line!r}")
    assert isinstance(out, str) or (out is None and where == "nope")
