-- Kontakt schema v1: tickets, calls, call events, users.

CREATE TABLE ticket_counters (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE tickets (
    id           bigserial PRIMARY KEY,
    number       text NOT NULL UNIQUE CHECK (number ~ '^[0-9]{4}/[0-9]{6,}$'),
    kind         text NOT NULL DEFAULT 'unknown'
                 CHECK (kind IN ('unknown', 'information', 'intervention', 'out_of_scope')),
    status       text NOT NULL DEFAULT 'new'
                 CHECK (status IN ('new', 'in_progress', 'forwarded', 'resolved_by_unit', 'closed', 'merged', 'abandoned_call')),
    channel      text NOT NULL
                 CHECK (channel IN ('phone', 'web_form', 'chat', 'email', 'fax', 'in_person', 'mobile_app')),
    category     text,
    caller_phone text,
    caller_name  text,
    description  text NOT NULL DEFAULT '',
    unit         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    closed_at    timestamptz
);
CREATE INDEX tickets_caller_phone ON tickets (caller_phone, created_at DESC) WHERE caller_phone IS NOT NULL;
CREATE INDEX tickets_created_at ON tickets (created_at);

CREATE TABLE calls (
    id           uuid PRIMARY KEY,
    ticket_id    bigint REFERENCES tickets (id),
    channel_id   text NOT NULL UNIQUE,
    direction    text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    caller       text NOT NULL DEFAULT '',
    called       text NOT NULL DEFAULT '',
    caller_ref   text,
    started_at   timestamptz NOT NULL,
    answered_at  timestamptz,
    ended_at     timestamptz,
    outcome      text CHECK (outcome IN ('answered', 'abandoned', 'self_service', 'callback', 'message', 'failed')),
    hangup_cause integer,
    -- A call that has ended belongs to a ticket and has an outcome.
    CONSTRAINT calls_ended_complete CHECK (ended_at IS NULL OR (ticket_id IS NOT NULL AND outcome IS NOT NULL))
);
CREATE INDEX calls_ticket ON calls (ticket_id);
CREATE INDEX calls_started_at ON calls (started_at);
CREATE INDEX calls_caller_ref ON calls (caller_ref) WHERE caller_ref IS NOT NULL;

CREATE TABLE call_events (
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq     integer NOT NULL CHECK (seq > 0),
    at      timestamptz NOT NULL,
    type    text NOT NULL,
    data    jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    login         text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9._-]{2,64}$'),
    display_name  text NOT NULL DEFAULT '',
    password_hash text NOT NULL DEFAULT '',
    roles         text[] NOT NULL DEFAULT '{}'
                  CHECK (roles <@ ARRAY['consultant', 'broker', 'supervisor', 'administrator', 'unit_worker']::text[]),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- An agent is a user who takes calls: skills (with levels) and languages.
CREATE TABLE agents (
    user_id   bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    skills    jsonb NOT NULL DEFAULT '{}',
    languages text[] NOT NULL DEFAULT '{pl}'
);
