"""Facts about a Redis host that keep its secrets on it.

users.acl holds each user's password as an unsalted SHA-256 (``#<hex>``): read back as a file
(pyinfra's ``FileContents``), it would be printed by ``pyinfra -vvv``, which shows every fact's
output (``pyinfra/api/facts.py:322-326``; ``-vvv`` sets ``print_fact_output``,
``pyinfra_cli/cli.py:624-626``), and a hash without salt is a fast password-guessing oracle.
"""

import shlex

from pyinfra.api.facts import FactBase

from datalayer.redis.changes import AclChange


class RedisAclChange(FactBase[AclChange]):
    """How the users.acl at ``path`` differs from the one sent on the fact's stdin, compared on
    the host as :func:`datalayer.redis.changes.acl_change` compares two texts: the whole file,
    then the admin user's rules (its first ``user ADMIN`` line, after the name). Only the words
    ``same``, ``changed`` or ``admin-changed`` come back. Call with ``_stdin=wanted_acl``."""

    def command(self, path: str, admin_user: str) -> str:
        rules = (
            f'$1 == "user" && $2 == "{admin_user}" '
            '{ sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]*/, ""); print "=" $0; exit }'
        )
        # $(...) drops trailing newlines: an "x" after the text keeps them, then is cut off. A
        # missing file reads as empty, as acl_change takes None.
        return (
            "wanted=$(cat; printf x); wanted=${wanted%x}; "
            f"current=$(cat {shlex.quote(path)} 2>/dev/null; printf x); current=${{current%x}}; "
            'if [ "$current" = "$wanted" ]; then echo same; '
            f'elif [ "$(printf %s "$current" | awk \'{rules}\')" = '
            f'"$(printf %s "$wanted" | awk \'{rules}\')" ]; then echo changed; '
            "else echo admin-changed; fi"
        )

    def process(self, output: list[str]) -> AclChange:
        answer = output[-1].strip()
        return AclChange(changed=answer != "same", admin_changed=answer == "admin-changed")
