-- Kontakt schema: call recordings, their audit trail, retention evidence and what the anonymisation
-- of expired tickets needs. The recording package (recording/) owns these tables.

-- One row per recorded call leg. A transfer or an escalation starts a new leg of the same call
-- (and so of the same ticket); each leg has its own recording. A row is created when recording
-- starts (state 'recording', so a crash leaves evidence), becomes 'finalised' when the file is in
-- the archive and verified, or 'failed' with a reason (never a silent gap), and 'purged' when the
-- file has been deleted at the end of retention. Rows are never deleted: a purged row keeps what
-- statistics need (call, ticket, leg, agents, start, duration, bytes) and the checksum.
CREATE TABLE recordings (
    id              bigserial PRIMARY KEY,
    call_id         uuid NOT NULL REFERENCES calls (id),
    ticket_id       bigint NOT NULL REFERENCES tickets (id),
    leg             integer NOT NULL CHECK (leg > 0),
    agent_user_ids  bigint[] NOT NULL DEFAULT '{}',
    state           text NOT NULL DEFAULT 'recording'
                    CHECK (state IN ('recording', 'finalised', 'failed', 'purged')),
    failure_reason  text,
    -- Something worth knowing about a kept file: the call ended abnormally, the WAV header had
    -- not been completed, the recording ended while paused.
    note            text,
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    duration_ms     bigint CHECK (duration_ms >= 0),
    bytes           bigint CHECK (bytes >= 0),
    format          text,          -- container: 'wav'
    codec           text,          -- e.g. 'pcm_s16le'
    sample_rate     integer CHECK (sample_rate > 0),
    channels        integer CHECK (channels > 0),
    sha256          text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- Where Asterisk writes the file while recording (absolute).
    spool_path      text,
    -- Where the file is kept, relative to the archive directory: YYYY/MM/DD/<call>-<leg>.wav.
    storage_path    text UNIQUE,
    -- Paused stretches, milliseconds from started_at: [{"from_ms": 1000, "to_ms": 5000, "by": 7}];
    -- to_ms is null while paused.
    pauses          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(pauses) = 'array'),
    -- From this instant the file may be deleted (recording.RetentionUntil of the ticket's
    -- registration, in the contact center's zone).
    retention_until timestamptz NOT NULL,
    -- A legal hold keeps the file past retention_until until hold_until (or until cleared).
    hold_by         bigint REFERENCES users (id),
    hold_reason     text,
    hold_until      timestamptz,
    hold_set_at     timestamptz,
    finalised_at    timestamptz,
    purged_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (call_id, leg),
    CONSTRAINT recordings_hold_complete CHECK (
        (hold_by IS NULL AND hold_reason IS NULL AND hold_until IS NULL AND hold_set_at IS NULL) OR
        (hold_by IS NOT NULL AND coalesce(hold_reason, '') <> '' AND hold_until IS NOT NULL AND hold_set_at IS NOT NULL)),
    CONSTRAINT recordings_finalised_complete CHECK (state <> 'finalised' OR (
        duration_ms IS NOT NULL AND bytes IS NOT NULL AND sha256 IS NOT NULL AND storage_path IS NOT NULL
        AND format IS NOT NULL AND ended_at IS NOT NULL)),
    CONSTRAINT recordings_failed_reason CHECK (state <> 'failed' OR coalesce(failure_reason, '') <> ''),
    CONSTRAINT recordings_purged_when CHECK (state <> 'purged' OR purged_at IS NOT NULL),
    CONSTRAINT recordings_storage_path_local CHECK (
        storage_path IS NULL OR (storage_path !~ '(^/|(^|/)\.\.(/|$))'))
);
CREATE INDEX recordings_ticket ON recordings (ticket_id);
CREATE INDEX recordings_expiry ON recordings (retention_until) WHERE state <> 'purged';
CREATE INDEX recordings_unfinished ON recordings (started_at) WHERE state = 'recording';

-- Append-only tables: the audit trail and the evidence must not be edited or deleted by the
-- application.
CREATE FUNCTION kontakt_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

-- Every access to a recording's audio, written before the first byte is served.
CREATE TABLE recording_access_log (
    id           bigserial PRIMARY KEY,
    recording_id bigint NOT NULL REFERENCES recordings (id),
    user_id      bigint NOT NULL REFERENCES users (id),
    purpose      text NOT NULL
                 CHECK (purpose IN ('complaint', 'quality', 'data_subject_request', 'legal', 'training')),
    action       text NOT NULL CHECK (action IN ('listen', 'download')),
    -- The Range header as the client sent it; null when the whole file was asked for.
    ranges       text,
    at           timestamptz NOT NULL DEFAULT now(),
    client_ip    inet,
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX recording_access_log_recording ON recording_access_log (recording_id, at);
CREATE INDEX recording_access_log_user ON recording_access_log (user_id, at);
CREATE TRIGGER recording_access_log_append_only BEFORE UPDATE OR DELETE ON recording_access_log
    FOR EACH ROW EXECUTE FUNCTION kontakt_append_only();

-- Every legal hold set or cleared (the recordings row holds only the current hold).
CREATE TABLE recording_hold_log (
    id           bigserial PRIMARY KEY,
    recording_id bigint NOT NULL REFERENCES recordings (id),
    action       text NOT NULL CHECK (action IN ('set', 'clear')),
    by_user_id   bigint NOT NULL REFERENCES users (id),
    reason       text NOT NULL DEFAULT '',
    until        timestamptz,
    at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recording_hold_log_set_complete CHECK (action <> 'set' OR (reason <> '' AND until IS NOT NULL))
);
CREATE INDEX recording_hold_log_recording ON recording_hold_log (recording_id, at);
CREATE TRIGGER recording_hold_log_append_only BEFORE UPDATE OR DELETE ON recording_hold_log
    FOR EACH ROW EXECUTE FUNCTION kontakt_append_only();

-- What the retention purge deleted: a recording's file, or a ticket's personal data (with its
-- calls and call events). No foreign keys, so the evidence outlives whatever it is about.
CREATE TABLE purge_evidence (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    what         text NOT NULL CHECK (what IN ('recording_file', 'ticket_personal_data')),
    recording_id bigint,
    ticket_id    bigint,
    call_id      uuid,
    -- The archive path of the deleted file, or the ticket's number.
    subject      text NOT NULL,
    why          text NOT NULL,
    -- SHA-256 of the deleted file. Null for a ticket: a hash of a phone number or a name can be
    -- reversed by trying every candidate, so it would keep the personal data it records deleting.
    sha256       text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes        bigint,
    by_actor     text NOT NULL,
    details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX purge_evidence_recording ON purge_evidence (recording_id) WHERE recording_id IS NOT NULL;
CREATE INDEX purge_evidence_ticket ON purge_evidence (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE TRIGGER purge_evidence_append_only BEFORE UPDATE OR DELETE ON purge_evidence
    FOR EACH ROW EXECUTE FUNCTION kontakt_append_only();

-- A ticket whose personal data (caller number and name, free text, its calls' caller numbers and
-- call events' personal values) has been replaced at the end of retention.
ALTER TABLE tickets ADD COLUMN anonymised_at timestamptz;
CREATE INDEX tickets_not_anonymised ON tickets (created_at) WHERE anonymised_at IS NULL;
