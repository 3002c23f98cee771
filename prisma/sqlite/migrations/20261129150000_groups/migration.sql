-- Generic volume groups: group types and specs, groups with their volume types, group snapshots
-- (parents of member snapshots), their machines' history; volumes.group_id and
-- snapshots.group_snapshot_id are added columns only (other branches add columns too).
-- AlterTable
ALTER TABLE "volumes" ADD COLUMN "group_id" TEXT;

-- AlterTable
ALTER TABLE "snapshots" ADD COLUMN "group_snapshot_id" TEXT;

-- CreateTable
CREATE TABLE "group_types" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "is_public" BOOLEAN NOT NULL DEFAULT true,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false
);

-- CreateTable
CREATE TABLE "group_type_specs" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "group_type_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    CONSTRAINT "group_type_specs_group_type_id_fkey" FOREIGN KEY ("group_type_id") REFERENCES "group_types" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "groups" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "project_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "group_type_id" TEXT NOT NULL,
    "availability_zone" TEXT NOT NULL DEFAULT 'nova',
    "status" TEXT NOT NULL,
    "group_snapshot_id" TEXT,
    "source_group_id" TEXT,
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

-- CreateTable
CREATE TABLE "group_volume_type_mapping" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "group_id" TEXT NOT NULL,
    "volume_type_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "group_volume_type_mapping_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "group_snapshots" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "group_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "group_type_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "machine_state" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "phase_entered_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deadline_at" DATETIME,
    "error_reason" TEXT
);

-- CreateTable
CREATE TABLE "group_transitions" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "subject" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
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
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "group_types_name_idx" ON "group_types"("name");

-- CreateIndex
CREATE UNIQUE INDEX "group_type_specs_group_type_id_key_key" ON "group_type_specs"("group_type_id", "key");

-- CreateIndex
CREATE INDEX "groups_project_id_idx" ON "groups"("project_id");

-- CreateIndex
CREATE UNIQUE INDEX "group_volume_type_mapping_group_id_volume_type_id_key" ON "group_volume_type_mapping"("group_id", "volume_type_id");

-- CreateIndex
CREATE INDEX "group_snapshots_group_id_idx" ON "group_snapshots"("group_id");

-- CreateIndex
CREATE INDEX "group_snapshots_project_id_idx" ON "group_snapshots"("project_id");

-- CreateIndex
CREATE INDEX "group_snapshots_deadline_at_idx" ON "group_snapshots"("deadline_at");

-- CreateIndex
CREATE INDEX "group_transitions_subject_subject_id_id_idx" ON "group_transitions"("subject", "subject_id", "id");

-- CreateIndex
CREATE INDEX "snapshots_group_snapshot_id_idx" ON "snapshots"("group_snapshot_id");

