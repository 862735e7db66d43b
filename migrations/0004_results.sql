-- Result runs, winners and publication.

CREATE TABLE result_run (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    competition_id uuid NOT NULL REFERENCES competition (id) ON DELETE CASCADE,
    status         text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'done', 'failed')),
    method         text NOT NULL CHECK (method IN ('zscore', 'raw')),
    parameters     jsonb,
    result         jsonb,
    snapshot_hash  text,
    error          text,
    created_by     uuid REFERENCES account (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    frozen_at      timestamptz
);
CREATE INDEX result_run_competition ON result_run (competition_id, created_at);

-- A frozen run is the published one: nothing about it may change any more.
CREATE FUNCTION result_run_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.frozen_at IS NOT NULL THEN
        RAISE EXCEPTION 'result_run % is frozen', OLD.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER result_run_frozen BEFORE UPDATE OR DELETE ON result_run
    FOR EACH ROW EXECUTE FUNCTION result_run_guard();

CREATE TABLE winner (
    competition_id uuid NOT NULL REFERENCES competition (id) ON DELETE CASCADE,
    category_id    uuid NOT NULL REFERENCES category (id) ON DELETE CASCADE,
    place          integer NOT NULL CHECK (place BETWEEN 1 AND 10),
    entry_id       uuid NOT NULL REFERENCES entry (id),
    result_run_id  uuid NOT NULL REFERENCES result_run (id),
    rank           integer,
    justification  text,
    chosen_by      uuid REFERENCES account (id) ON DELETE SET NULL,
    chosen_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (competition_id, category_id, place),
    UNIQUE (competition_id, entry_id)
);

ALTER TABLE competition
    ADD COLUMN published_at     timestamptz,
    ADD COLUMN published_run_id uuid REFERENCES result_run (id);
