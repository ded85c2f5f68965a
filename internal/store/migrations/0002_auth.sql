-- Kontakt schema v2: sign-in. A unit worker's unit, sessions (stored only as the SHA-256 of the
-- cookie's token), and the sign-in attempts that throttling counts.

ALTER TABLE users
    ADD COLUMN unit                text CHECK (unit IS NULL OR unit <> ''),
    ADD COLUMN password_changed_at timestamptz,
    ADD CONSTRAINT users_unit_worker_has_unit
        CHECK (NOT ('unit_worker' = ANY (roles)) OR unit IS NOT NULL);

-- A session is one signed-in browser (or headless agent). The cookie carries a random 32-byte
-- token; only its SHA-256 is stored, so a copy of this table signs nobody in.
CREATE TABLE sessions (
    id           bytea PRIMARY KEY CHECK (length(id) = 32),
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    -- Slides with use (idle timeout), never past created_at + the absolute maximum.
    expires_at   timestamptz NOT NULL,
    user_agent   text NOT NULL DEFAULT '',
    ip           inet,
    revoked_at   timestamptz,
    CHECK (expires_at >= created_at)
);
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Every sign-in attempt (and every check of a password, such as the old one when changing it),
-- known login or not. Throttling counts the failures per login and per client address; the rows
-- are also the audit trail of who tried to sign in from where. An attempt is written as
-- 'pending' before the password is checked, so concurrent guesses count against each other.
CREATE TABLE auth_attempts (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    login   text NOT NULL,  -- as typed, lower-cased and cut to 64 characters
    ip      inet,           -- the client's address; an IPv6 client's /64
    purpose text NOT NULL CHECK (purpose IN ('sign_in', 'password_change')),
    outcome text NOT NULL
            CHECK (outcome IN ('pending', 'ok', 'wrong_password', 'unknown_login', 'disabled'))
);
CREATE INDEX auth_attempts_login ON auth_attempts (login, at);
CREATE INDEX auth_attempts_ip ON auth_attempts (ip, at);
