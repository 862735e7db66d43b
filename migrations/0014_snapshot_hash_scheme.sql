-- Which canonical encoding a result run's snapshot hash was made with (results/snapshot.py), so
-- that every run stays verifiable when the encoding changes. Every run made before this column
-- was hashed with scheme 1: adding the column with that default fills them in without an UPDATE
-- (which the frozen-run trigger would refuse). From now on the worker writes the scheme together
-- with the hash, and a hash never comes without its scheme.
ALTER TABLE result_run
    ADD COLUMN hash_scheme smallint DEFAULT 1 CHECK (hash_scheme IN (1, 2));
ALTER TABLE result_run
    ALTER COLUMN hash_scheme DROP DEFAULT,
    ADD CONSTRAINT result_run_hash_has_scheme
        CHECK (snapshot_hash IS NULL OR hash_scheme IS NOT NULL);
