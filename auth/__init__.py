"""Sign-in, roles, sessions and the audit log (docs/ACCESS.md), pure and free of Streamlit.

Modules
-------
roles
    :class:`~auth.roles.Role`, :class:`~auth.roles.Permission`, the role -> permission and
    page -> permission tables, ``allowed`` / ``require`` / ``visible_pages`` /
    ``operator_filter``, and the identity-provider claim mapping (``claims_to_role``).
users
    :class:`~auth.users.User` and :class:`~auth.users.UserStore`: the local accounts file
    (argon2id hashes, lockout after failed attempts).
sessions
    :class:`~auth.sessions.Session` and idle expiry.
signin
    ``sign_in`` / ``sign_out``: authenticate, open a session and write the audit entries.
audit
    :class:`~auth.audit.AuditLog`: the append-only JSON-lines audit log and its reader.
config
    Paths (``PHUSONG_USERS``, ``PHUSONG_AUDIT``) and settings (idle time, lockout, claims).
startup
    ``startup_mode``: demo mode on localhost, secure mode, or a refusal to start.

``auth`` imports ``geo`` only; ``geo``, ``analysis`` and ``layers`` never import ``auth``.
"""
