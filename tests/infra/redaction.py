"""Keep the secrets a suite handles out of its reports: terminal, JUnit XML, CI artifacts.

A failing assertion's explanation repeats its operands (``where 401 = _write(..., 'token')``),
and pytest's JUnit writer copies that text into the report: ``append_failure`` puts the crash
message in the ``<failure message=...>`` attribute and the whole ``str(report.longrepr)`` in its
body (``_pytest/junitxml.py:238-252``, pytest 9.2.0); captured output goes in only with
``junit_logging`` other than its default ``no`` (204-213, 445-449). The verify workflow
publishes and uploads that file. So every secret a suite reads is registered here
(:func:`revealed`), and the report of each test phase has them replaced by ``***`` when it is
made (``pytest_runtest_makereport``), before any reporter, JUnit's included, sees it
(``pytest_runtest_logreport`` is called with the report made here).
"""

from collections.abc import Generator

import pytest

MASK = "***"
_revealed: set[str] = set()


def revealed(secret: str) -> str:
    """``secret``, registered so that no report of this run shows it."""
    if secret:
        _revealed.add(secret)
    return secret


def scrubbed(text: str) -> str:
    """``text`` with every registered secret (longest first) replaced by ``***``."""
    for secret in sorted(_revealed, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.longrepr is not None:
        text = str(report.longrepr)
        if scrubbed(text) != text:
            report.longrepr = scrubbed(text)
    report.sections = [(title, scrubbed(content)) for title, content in report.sections]
    return report
