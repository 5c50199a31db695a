"""Turn a bad spec or a missing secret into pyinfra's clean one-line error, not a traceback."""

from collections.abc import Iterator
from contextlib import contextmanager

from pyinfra.api.exceptions import PyinfraError

from datalayer.secrets import SecretError
from datalayer.spec import SpecError


@contextmanager
def stop_on_bad_input() -> Iterator[None]:
    """Re-raise spec and secret errors as :class:`PyinfraError`, which pyinfra prints plainly."""
    try:
        yield
    except (SpecError, SecretError) as error:
        raise PyinfraError(str(error)) from None
