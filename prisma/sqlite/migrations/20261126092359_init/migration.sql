-- CreateTable
CREATE TABLE "volumes" (
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
    "deleted" BOOLEAN NOT NULL DEFAULT false
);

-- CreateTable
CREATE TABLE "volume_attachment" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "volume_id" TEXT NOT NULL,
    "instance_uuid" TEXT,
    "mountpoint" TEXT,
    "attach_status" TEXT NOT NULL DEFAULT 'attaching',
    "connection_info" TEXT,
    "attach_time" DATETIME,
    "detach_time" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "volume_attachment_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "volume_admin_metadata" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "volume_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "volume_admin_metadata_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "snapshots" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "volume_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "status" TEXT NOT NULL,
    "progress" TEXT NOT NULL DEFAULT '0%',
    "volume_size" INTEGER NOT NULL,
    "provider_location" TEXT,
    "provider_id" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "machine_state" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "deadline_at" DATETIME,
    "phase_entered_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "error_reason" TEXT,
    CONSTRAINT "snapshots_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "snapshot_metadata" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "snapshot_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "snapshot_metadata_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "snapshot_admin_metadata" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "snapshot_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "snapshot_admin_metadata_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "snapshot_transitions" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "snapshot_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "from_state" TEXT,
    "to_state" TEXT NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "payload" TEXT,
    "rejected" BOOLEAN NOT NULL DEFAULT false,
    "reason" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "snapshot_transitions_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "snapshot_id" TEXT NOT NULL,
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
    CONSTRAINT "outbox_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "volumes_project_id_idx" ON "volumes"("project_id");

-- CreateIndex
CREATE INDEX "volume_attachment_volume_id_idx" ON "volume_attachment"("volume_id");

-- CreateIndex
CREATE UNIQUE INDEX "volume_admin_metadata_volume_id_key_key" ON "volume_admin_metadata"("volume_id", "key");

-- CreateIndex
CREATE INDEX "snapshots_volume_id_idx" ON "snapshots"("volume_id");

-- CreateIndex
CREATE INDEX "snapshots_project_id_idx" ON "snapshots"("project_id");

-- CreateIndex
CREATE INDEX "snapshots_deadline_at_idx" ON "snapshots"("deadline_at");

-- CreateIndex
CREATE UNIQUE INDEX "snapshot_metadata_snapshot_id_key_key" ON "snapshot_metadata"("snapshot_id", "key");

-- CreateIndex
CREATE UNIQUE INDEX "snapshot_admin_metadata_snapshot_id_key_key" ON "snapshot_admin_metadata"("snapshot_id", "key");

-- CreateIndex
CREATE INDEX "snapshot_transitions_snapshot_id_id_idx" ON "snapshot_transitions"("snapshot_id", "id");

-- CreateIndex
CREATE INDEX "outbox_status_run_after_idx" ON "outbox"("status", "run_after");

-- CreateIndex
CREATE INDEX "outbox_snapshot_id_idx" ON "outbox"("snapshot_id");
