"""The environment check tells a learner what to install."""

from kubenet_lab.course import EnvironmentReport, Requirement, environment_report


def test_this_environment_is_ready():
    report = environment_report()
    assert report.ok, str(report)
    assert [r.name for r in report.requirements][:2] == ["python", "ipywidgets"]


def test_missing_and_old_packages_say_how_to_fix_them():
    missing = Requirement("ipywidgets", (8, 0), None)
    old = Requirement("ipywidgets", (8, 0), "7.8.1")
    new = Requirement("ipywidgets", (8, 0), "8.1.5")
    assert missing.status == "missing: pip install 'ipywidgets>=8.0'"
    assert old.status == "too old (7.8.1): pip install -U 'ipywidgets>=8.0'"
    assert new.ok and new.status == "ok"
    report = EnvironmentReport((new, old))
    assert not report.ok
    assert "too old" in str(report) and "too old" in report._repr_html_()


def test_prerelease_versions_compare_by_their_numbers():
    assert Requirement("jupyterlab", (4, 0), "4.3.0rc1").ok
    assert not Requirement("jupyterlab", (4, 0), "3.6.8").ok
