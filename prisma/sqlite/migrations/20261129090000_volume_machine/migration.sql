-- CreateTable
CREATE TABLE "volume_transitions" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "volume_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "from_phase" TEXT,
    "to_phase" TEXT NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "payload" TEXT,
    "rejected" BOOLEAN NOT NULL DEFAULT false,
    "reason" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "volume_transitions_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_volumes" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "project_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "size" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'creating',
    "attach_status" TEXT NOT NULL DEFAULT 'detached',
    "provider_location" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "machine_state" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "phase_entered_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "error_reason" TEXT
);
-- machine_state and phase are filled in below, from the status.
INSERT INTO "new_volumes" ("attach_status", "created_at", "deleted", "deleted_at", "description", "id", "name", "project_id", "provider_location", "size", "status", "updated_at", "user_id", "machine_state", "phase") SELECT "attach_status", "created_at", "deleted", "deleted_at", "description", "id", "name", "project_id", "provider_location", "size", "status", "updated_at", "user_id", '', '' FROM "volumes";
DROP TABLE "volumes";
ALTER TABLE "new_volumes" RENAME TO "volumes";
CREATE INDEX "volumes_project_id_idx" ON "volumes"("project_id");
CREATE TABLE "new_outbox" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "snapshot_id" TEXT,
    "volume_id" TEXT,
    "kind" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "run_after" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_by" TEXT,
    "locked_until" DATETIME,
    "last_error" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "completed_at" DATETIME,
    CONSTRAINT "outbox_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "outbox_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_outbox" ("attempts", "completed_at", "created_at", "id", "kind", "last_error", "locked_by", "locked_until", "phase", "run_after", "snapshot_id", "status", "updated_at", "version") SELECT "attempts", "completed_at", "created_at", "id", "kind", "last_error", "locked_by", "locked_until", "phase", "run_after", "snapshot_id", "status", "updated_at", "version" FROM "outbox";
DROP TABLE "outbox";
ALTER TABLE "new_outbox" RENAME TO "outbox";
CREATE INDEX "outbox_status_run_after_idx" ON "outbox"("status", "run_after");
CREATE INDEX "outbox_snapshot_id_idx" ON "outbox"("snapshot_id");
CREATE INDEX "outbox_volume_id_idx" ON "outbox"("volume_id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "volume_transitions_volume_id_id_idx" ON "volume_transitions"("volume_id", "id");

-- Written by hand: every existing volume gets the machine state its status stands for. A status
-- the volume machine has a state for is kept, a volume caught `creating` or `deleting` (a
-- synchronous driver call that never reported back) goes to `error` / `error_deleting`, from which
-- a delete or a reset by an admin leads on, and any other status an admin had reset it to goes to `error`.
-- Version 0: the state was carried over, no event of the machine produced it.
UPDATE "volumes" SET
  "phase" = CASE
    WHEN "status" IN ('available', 'reserved', 'attaching', 'in-use', 'detaching', 'error', 'error_deleting', 'deleted') THEN "status"
    WHEN "status" = 'deleting' THEN 'error_deleting'
    ELSE 'error' END,
  "error_reason" = CASE
    WHEN "status" IN ('available', 'reserved', 'attaching', 'in-use', 'detaching', 'deleted') THEN NULL
    ELSE 'migrated: status ' || "status" || ' before the volume machine' END,
  "version" = 0;
UPDATE "volumes" SET
  "status" = "phase",
  "attach_status" = CASE WHEN "attach_status" = 'attached' THEN 'attached' ELSE 'detached' END;
UPDATE "volumes" SET
  "machine_state" = '{"value":"' || "phase" || '","context":{"attachStatus":"' || "attach_status" || '","reason":'
    || CASE WHEN "error_reason" IS NULL THEN 'null' ELSE '"' || "error_reason" || '"' END || '}}';
