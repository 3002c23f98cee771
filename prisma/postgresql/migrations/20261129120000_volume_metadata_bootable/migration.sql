-- AlterTable
ALTER TABLE "volumes" ADD COLUMN     "bootable" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "volume_metadata" (
    "id" SERIAL NOT NULL,
    "volume_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "volume_metadata_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "volume_metadata_volume_id_key_key" ON "volume_metadata"("volume_id", "key");

-- AddForeignKey
ALTER TABLE "volume_metadata" ADD CONSTRAINT "volume_metadata_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
