-- Jurors accept the confidentiality agreement before they see any entry.

ALTER TABLE juror
    ADD COLUMN confidentiality_version     text,
    ADD COLUMN confidentiality_accepted_at timestamptz;
