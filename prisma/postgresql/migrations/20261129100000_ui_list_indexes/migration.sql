-- The UI's keyset pages (newest first by created_at, id), optionally filtered by one column.
-- The single-column volume_id and project_id indexes become prefixes of the new ones.
DROP INDEX "snapshots_volume_id_idx";
DROP INDEX "snapshots_project_id_idx";
CREATE INDEX "snapshots_created_at_id_idx" ON "snapshots"("created_at", "id");
CREATE INDEX "snapshots_volume_id_created_at_id_idx" ON "snapshots"("volume_id", "created_at", "id");
CREATE INDEX "snapshots_project_id_created_at_id_idx" ON "snapshots"("project_id", "created_at", "id");
CREATE INDEX "snapshots_status_created_at_id_idx" ON "snapshots"("status", "created_at", "id");
CREATE INDEX "snapshots_phase_created_at_id_idx" ON "snapshots"("phase", "created_at", "id");
