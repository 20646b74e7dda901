-- herald-postgres: the idempotency store and the transactional handlers' processed keys.
-- Idempotent: run by herald_postgres::migrate() under an advisory lock, or by your own tool.

-- Claims of the IdempotencyStore. A held key has a token and lease_until; a done key has
-- done = TRUE. expires_at is when the row stops counting (the lease's end while held, the
-- completed TTL once done), so expired rows can be taken over or purged.
CREATE TABLE IF NOT EXISTS herald_idempotency_keys (
    key         TEXT        PRIMARY KEY,
    token       TEXT,
    done        BOOLEAN     NOT NULL DEFAULT FALSE,
    lease_until TIMESTAMPTZ,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS herald_idempotency_keys_expires_at
    ON herald_idempotency_keys (expires_at);

-- Keys processed by transactional handlers: inserted in the same transaction as the
-- handler's own writes, so both commit or neither does.
CREATE TABLE IF NOT EXISTS herald_processed_keys (
    key          TEXT        PRIMARY KEY,
    handler      TEXT        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS herald_processed_keys_expires_at
    ON herald_processed_keys (expires_at);
