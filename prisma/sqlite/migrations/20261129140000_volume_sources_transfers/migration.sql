-- Volumes from a snapshot or another volume, and volume transfers. The volumes table only gains
-- nullable columns (ADD COLUMN), so columns other branches add to it are kept.

-- AlterTable
ALTER TABLE "volumes" ADD COLUMN "snapshot_id" TEXT;
ALTER TABLE "volumes" ADD COLUMN "source_volid" TEXT;

-- CreateTable
CREATE TABLE "transfers" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "volume_id" TEXT NOT NULL,
    "display_name" TEXT,
    "salt" TEXT NOT NULL,
    "crypt_hash" TEXT NOT NULL,
    "expires_at" DATETIME,
    "no_snapshots" BOOLEAN NOT NULL DEFAULT false,
    "source_project_id" TEXT NOT NULL,
    "destination_project_id" TEXT,
    "accepted" BOOLEAN NOT NULL DEFAULT false,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "transfers_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "volumes_snapshot_id_idx" ON "volumes"("snapshot_id");

-- CreateIndex
CREATE INDEX "volumes_source_volid_idx" ON "volumes"("source_volid");

-- CreateIndex
CREATE INDEX "transfers_volume_id_idx" ON "transfers"("volume_id");

-- CreateIndex
CREATE INDEX "transfers_source_project_id_idx" ON "transfers"("source_project_id");
