-- Data protection: consent to the privacy notice, account deletion by anonymisation.

ALTER TABLE account
    ADD COLUMN privacy_version     text,
    ADD COLUMN privacy_accepted_at timestamptz,
    ADD COLUMN deleted_at          timestamptz;
