-- Accounts, API tokens, the event outbox and the e-mail outbox.

CREATE TABLE account (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email               text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash       text,
    locale              text NOT NULL DEFAULT 'de' CHECK (locale IN ('de', 'en')),
    email_verified_at   timestamptz,
    is_organiser        boolean NOT NULL DEFAULT false,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX account_email_key ON account (email);

CREATE TABLE api_token (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id   uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    scopes       text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_token_account ON api_token (account_id);

-- Domain events, written in the same transaction as the state change they describe.
-- The relay sets dispatched_at once the job is in the queue; the job sets processed_at in the
-- transaction of its effects, which makes a second delivery a no-op.
-- The id is a UUID because it doubles as the job id in the queue: it must never repeat, not even
-- after a database is rebuilt while the queue still remembers earlier jobs.
CREATE TABLE event (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind          text NOT NULL,
    aggregate_id  uuid,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    dispatched_at timestamptz,
    processed_at  timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text,
    failed_at     timestamptz
);
CREATE INDEX event_undispatched ON event (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX event_open ON event (dispatched_at)
    WHERE processed_at IS NULL AND failed_at IS NULL AND dispatched_at IS NOT NULL;
CREATE INDEX event_failed ON event (failed_at) WHERE failed_at IS NOT NULL;

-- Every mail, rendered when queued. The idempotency key makes a mail for the same
-- (event, recipient, template) exist once; the Message-ID is fixed here, so a mail that has to be
-- sent again after a crash carries the same Message-ID.
CREATE TABLE email (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    idempotency_key text NOT NULL UNIQUE,
    event_id        uuid REFERENCES event (id),
    account_id      uuid REFERENCES account (id) ON DELETE SET NULL,
    recipient       text NOT NULL,
    template        text NOT NULL,
    locale          text NOT NULL CHECK (locale IN ('de', 'en')),
    subject         text NOT NULL,
    body_text       text NOT NULL,
    body_html       text,
    message_id      text NOT NULL UNIQUE,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    dispatched_at   timestamptz,
    claimed_at      timestamptz,
    sent_at         timestamptz
);
CREATE INDEX email_undispatched ON email (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX email_open ON email (dispatched_at) WHERE status IN ('queued', 'sending');
CREATE INDEX email_event ON email (event_id);
