-- Callbacks waiting for their place in a queue: kept so that a restart of kontakt does not lose
-- a callback promised to a resident. A row is pending until the resident is reached, the
-- attempts run out, or the callback is withdrawn.
CREATE TABLE callbacks (
    call_id      uuid PRIMARY KEY,          -- the resident's call that booked it (the ACD's id)
    ticket_id    bigint NOT NULL REFERENCES tickets (id),
    number       text NOT NULL,             -- the number to call ('' once anonymised)
    queue        text NOT NULL,
    language     text NOT NULL DEFAULT '',
    priority     integer NOT NULL DEFAULT 0,
    arrived_at   timestamptz NOT NULL,      -- the place it keeps: when the caller joined the queue
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'answered', 'failed', 'cancelled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX callbacks_pending ON callbacks (arrived_at) WHERE status = 'pending';
CREATE INDEX callbacks_ticket ON callbacks (ticket_id);
