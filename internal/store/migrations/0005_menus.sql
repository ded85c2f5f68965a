-- IVR menus: versioned documents, one published version per menu at a time, every change audited.

CREATE TABLE menu_versions (
    menu_id      text NOT NULL CHECK (menu_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    version      integer NOT NULL CHECK (version > 0),
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    document     jsonb NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_by text,
    published_at timestamptz,
    PRIMARY KEY (menu_id, version)
);
-- At most one published version per menu.
CREATE UNIQUE INDEX menu_versions_one_published ON menu_versions (menu_id) WHERE status = 'published';

CREATE TABLE menu_audit (
    id       bigserial PRIMARY KEY,
    menu_id  text NOT NULL,
    version  integer NOT NULL,
    action   text NOT NULL CHECK (action IN ('save_draft', 'publish', 'rollback', 'archive')),
    actor    text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    detail   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX menu_audit_menu ON menu_audit (menu_id, at);

-- The menu version and language a call ran with.
ALTER TABLE calls ADD COLUMN menu_id text;
ALTER TABLE calls ADD COLUMN menu_version integer;
ALTER TABLE calls ADD COLUMN language text;
