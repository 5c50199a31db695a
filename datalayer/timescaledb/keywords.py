"""PostgreSQL's reserved key words, as data: a name among them needs quoting in SQL.

Read from real servers (the same as settings_catalogue/README.md names: 15.18, 17.12, 18.6) with::

    SELECT string_agg(word, ' ' ORDER BY word) FROM pg_get_keywords() WHERE catcode = 'R'

17.12 and 18.6 answer the same 78 words; 15.18 the same less system_user (new in 16). Refresh it
with the catalogue when the supported versions move on.
"""

RESERVED_KEYWORDS = frozenset(
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both",
        "case", "cast", "check", "collate", "column", "constraint", "create", "current_catalog",
        "current_date", "current_role", "current_time", "current_timestamp", "current_user",
        "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false",
        "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially",
        "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
        "null", "offset", "on", "only", "or", "order", "placing", "primary", "references",
        "returning", "select", "session_user", "some", "symmetric", "system_user", "table", "then",
        "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where",
        "window", "with",
    }
)  # fmt: skip
"""Words PostgreSQL reserves in every context (catcode R): never a bare role or table name."""
