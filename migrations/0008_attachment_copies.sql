-- Verified bytes are immutable. A presigned PUT stays valid for its whole lifetime and can be
-- replayed, so the upload key (`object_key`) is never served once an attachment is verified: the
-- verification job copies the object inside the store to `stored_key`, a key no upload URL is
-- ever signed for, and hashes and sniffs that copy. `upload_etag` is the ETag `complete` saw; the
-- copy is made only while the upload still has it, so bytes put after completion are never
-- judged. `copied_at` marks rows whose served bytes are the copy; rows verified before this
-- migration have none yet and are copied and re-hashed by a periodic duty (downloads fall back to
-- the upload key until then).
--
-- Objects are removed only after their upload URL has expired (`upload_removed_at`), as a
-- removed upload key could otherwise be written again with the same URL. Until every object of a
-- rejected, deleted or expired attachment is gone (`object_removed_at`) it counts against the
-- entry's quota.
ALTER TABLE attachment
    ADD COLUMN stored_key        text,
    ADD COLUMN upload_etag       text,
    ADD COLUMN copied_at         timestamptz,
    ADD COLUMN upload_removed_at timestamptz;

UPDATE attachment SET stored_key = 'files/' || entry_id || '/' || id;
UPDATE attachment SET upload_removed_at = object_removed_at WHERE object_removed_at IS NOT NULL;

ALTER TABLE attachment
    ALTER COLUMN stored_key SET NOT NULL,
    ADD CONSTRAINT attachment_stored_key_key UNIQUE (stored_key);

CREATE INDEX attachment_removal ON attachment (upload_expires_at)
    WHERE status IN ('verified', 'rejected', 'deleted', 'expired')
      AND (upload_removed_at IS NULL OR (status <> 'verified' AND object_removed_at IS NULL));
CREATE INDEX attachment_not_copied ON attachment (created_at)
    WHERE status = 'verified' AND copied_at IS NULL;
CREATE INDEX attachment_usage ON attachment (entry_id) WHERE object_removed_at IS NULL;
