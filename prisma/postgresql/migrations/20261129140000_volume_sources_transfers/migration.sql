-- Volumes from a snapshot or another volume, and volume transfers.

-- AlterTable
ALTER TABLE "volumes" ADD COLUMN     "snapshot_id" TEXT,
ADD COLUMN     "source_volid" TEXT;

-- CreateTable
CREATE TABLE "transfers" (
    "id" TEXT NOT NULL,
    "volume_id" TEXT NOT NULL,
    "display_name" TEXT,
    "salt" TEXT NOT NULL,
    "crypt_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3),
    "no_snapshots" BOOLEAN NOT NULL DEFAULT false,
    "source_project_id" TEXT NOT NULL,
    "destination_project_id" TEXT,
    "accepted" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "transfers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "volumes_snapshot_id_idx" ON "volumes"("snapshot_id");

-- CreateIndex
CREATE INDEX "volumes_source_volid_idx" ON "volumes"("source_volid");

-- CreateIndex
CREATE INDEX "transfers_volume_id_idx" ON "transfers"("volume_id");

-- CreateIndex
CREATE INDEX "transfers_source_project_id_idx" ON "transfers"("source_project_id");

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
