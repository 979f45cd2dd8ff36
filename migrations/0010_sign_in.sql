-- OAuth 2.0 sign-in for the mailbox and the submission server. One row per account
-- (`mailbox`, `outgoing`): its tokens, encrypted (XChaCha20-Poly1305 under a key derived
-- from `secrets.key` or the approval key, bound to the account's name), when the access
-- token expires, and what the last refresh did. Tokens are never stored in clear.

CREATE TABLE oauth_tokens (
    account        TEXT PRIMARY KEY CHECK (account IN ('mailbox', 'outgoing')),
    client_id      TEXT NOT NULL,
    flow           TEXT NOT NULL CHECK (flow IN ('client_credentials', 'device_code')),
    access_token   BYTEA,
    -- SHA-256 of the access token, so a token the server refused is recognised without
    -- decrypting anything.
    access_sha256  TEXT,
    expires_at     TIMESTAMPTZ,
    refresh_token  BYTEA,
    refreshed_at   TIMESTAMPTZ,
    last_error     TEXT,
    last_error_at  TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
