import pytest

from opennrm.workdays.calendar import forget_closure_days


@pytest.fixture(autouse=True)
def fresh_closure_days():
    # Closure days are cached per process for 30 seconds; a test's rolled-back closure days must
    # not linger in the cache for the tests that follow it, and must not come in from earlier ones.
    forget_closure_days()
    yield
    forget_closure_days()
