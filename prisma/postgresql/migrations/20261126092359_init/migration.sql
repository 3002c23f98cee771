-- CreateTable
CREATE TABLE "volumes" (
    "id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "size" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'creating',
    "attach_status" TEXT NOT NULL DEFAULT 'detached',
    "provider_location" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "volumes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "volume_attachment" (
    "id" TEXT NOT NULL,
    "volume_id" TEXT NOT NULL,
    "instance_uuid" TEXT,
    "mountpoint" TEXT,
    "attach_status" TEXT NOT NULL DEFAULT 'attaching',
    "connection_info" TEXT,
    "attach_time" TIMESTAMP(3),
    "detach_time" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "volume_attachment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "volume_admin_metadata" (
    "id" SERIAL NOT NULL,
    "volume_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "volume_admin_metadata_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "snapshots" (
    "id" TEXT NOT NULL,
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
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "machine_state" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "deadline_at" TIMESTAMP(3),
    "phase_entered_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "error_reason" TEXT,

    CONSTRAINT "snapshots_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "snapshot_metadata" (
    "id" SERIAL NOT NULL,
    "snapshot_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "snapshot_metadata_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "snapshot_admin_metadata" (
    "id" SERIAL NOT NULL,
    "snapshot_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "snapshot_admin_metadata_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "snapshot_transitions" (
    "id" SERIAL NOT NULL,
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
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "snapshot_transitions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" SERIAL NOT NULL,
    "snapshot_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "run_after" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_by" TEXT,
    "locked_until" TIMESTAMP(3),
    "last_error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "completed_at" TIMESTAMP(3),

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "volume_attachment" ADD CONSTRAINT "volume_attachment_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "volume_admin_metadata" ADD CONSTRAINT "volume_admin_metadata_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "snapshots" ADD CONSTRAINT "snapshots_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "snapshot_metadata" ADD CONSTRAINT "snapshot_metadata_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "snapshot_admin_metadata" ADD CONSTRAINT "snapshot_admin_metadata_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "snapshot_transitions" ADD CONSTRAINT "snapshot_transitions_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
