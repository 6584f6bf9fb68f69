-- API clients: other agencies (a bank, the tax office, a GIS unit) reading the record
-- through the HTTP API (landgov.api), each with its own secret, scopes and rate limit.
--
-- The secret is 256 random bits, so its SHA-256 is enough to keep it (as service keys
-- and session tokens are kept): nobody can search 2^256 secrets, and a slow hash would
-- cost every API call 50-100 ms. The unique index lets a key find its client.
CREATE TABLE api_client (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    agency            text NOT NULL CHECK (btrim(agency) <> ''),
    scopes            text[] NOT NULL CHECK (
                          cardinality(scopes) > 0
                          AND scopes <@ ARRAY['fard:read', 'parcels:read', 'valuation:read',
                                              'holdings:read']),
    -- client_credentials: the secret buys signed tokens at /v1/oauth/token and is sent
    -- nowhere else; api_key: the secret itself goes with every call (X-API-Key or HTTP
    -- Basic, for tools such as QGIS that can send nothing else)
    auth_method       text NOT NULL CHECK (auth_method IN ('client_credentials', 'api_key')),
    secret_hash       text NOT NULL UNIQUE CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    rate_per_minute   integer NOT NULL CHECK (rate_per_minute BETWEEN 1 AND 1000000),
    created_by        text NOT NULL CHECK (btrim(created_by) <> ''),
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    secret_rotated_at timestamptz,
    disabled_at       timestamptz
);

-- Calls per client, bucket and minute: the per-client rate limit holds across every
-- worker and process serving the API (the database is what they share). Unlogged: a
-- crash forgets at most a minute of counts.
CREATE UNLOGGED TABLE api_rate_window (
    client_id     bigint NOT NULL REFERENCES api_client (id),
    bucket        text NOT NULL CHECK (bucket IN ('calls', 'fard_misses')),
    window_start  timestamptz NOT NULL,
    calls         integer NOT NULL CHECK (calls >= 0),
    PRIMARY KEY (client_id, bucket, window_start)
);

-- Who read whom, for which client: a read through the API names its client.
ALTER TABLE access_log ADD COLUMN api_client_id bigint REFERENCES api_client (id);
CREATE INDEX access_log_client_idx ON access_log (api_client_id, at)
    WHERE api_client_id IS NOT NULL;

INSERT INTO security_setting (name, value, description) VALUES
    ('api_token_minutes', 15, 'lifetime of an API access token (OAuth2 client credentials)'),
    ('api_fard_misses_per_minute', 20,
     'fard codes an API client may look up in vain a minute before it must wait');

-- Clients are disabled, never deleted: the access log names them. The reporting role
-- never sees the secrets' hashes.
REVOKE DELETE, TRUNCATE ON api_client FROM landgov_app;
REVOKE ALL ON api_client FROM landgov_report;
GRANT SELECT (id, name, agency, scopes, auth_method, rate_per_minute, created_by, created_at,
              secret_rotated_at, disabled_at) ON api_client TO landgov_report;
