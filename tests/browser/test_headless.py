"""The browser checks' shared parts that run without a browser: the check list and error filter."""

from headless import BENIGN_ERRORS, Checks, Page


def test_checks_print_and_keep_failures(capsys):
    check = Checks()
    check(True, "draws")
    assert check.status == 0
    check(False, "no errors")
    assert capsys.readouterr().out.splitlines() == ["ok   draws", "FAIL no errors"]
    assert check.failures == ["no errors"] and check.status == 1


def test_real_errors_drop_the_known_harmless_ones():
    log = Page(page=None, errors=["GL Driver Message (OpenGL)", "TypeError: x is undefined", "theme"])
    assert "WebGL" in BENIGN_ERRORS
    assert log.real_errors() == ["TypeError: x is undefined", "theme"]
    assert log.real_errors(benign=("theme",)) == ["TypeError: x is undefined"]
