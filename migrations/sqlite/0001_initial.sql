-- herald-registry schema (SQLite). Ids come from a counter so they are never reused.
-- SQLite has no sequences: the last id handed out lives in registry_meta.

CREATE TABLE schemas (
    id          BIGINT PRIMARY KEY,
    schema_type TEXT NOT NULL DEFAULT 'JSON',
    schema      TEXT NOT NULL,
    refs        TEXT NOT NULL DEFAULT '[]',
    -- SHA-256 of type, canonical text and references: lookups by content use this index.
    hash        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX schemas_hash_idx ON schemas (hash);

-- One row per subject that has versions: the row writers lock, and the highest version
-- ever assigned (versions are never reused after a soft delete).
CREATE TABLE subjects (
    subject        TEXT PRIMARY KEY,
    latest_version INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE subject_versions (
    subject    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    schema_id  BIGINT NOT NULL REFERENCES schemas (id),
    deleted    INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (subject, version)
);
CREATE INDEX subject_versions_schema_idx ON subject_versions (schema_id);

CREATE TABLE schema_refs (
    schema_id   BIGINT NOT NULL REFERENCES schemas (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    ref_subject TEXT NOT NULL,
    ref_version INTEGER NOT NULL,
    PRIMARY KEY (schema_id, name)
);
CREATE INDEX schema_refs_target_idx ON schema_refs (ref_subject, ref_version);

-- Compatibility config and mode; the global row has subject ''.
CREATE TABLE config (
    subject       TEXT PRIMARY KEY,
    compatibility TEXT,
    normalize     INTEGER,
    policy        TEXT
);

CREATE TABLE mode (
    subject TEXT PRIMARY KEY,
    mode    TEXT NOT NULL
);

CREATE TABLE registry_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO registry_meta (key, value)
VALUES ('cluster_id', lower(hex(randomblob(16)))), ('last_schema_id', '0');
