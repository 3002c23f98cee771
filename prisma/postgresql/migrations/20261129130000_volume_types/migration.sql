-- Volume types (Cinder's volume_types, extra specs, access list, encryption) and QoS specs.
-- volumes.volume_type_id is added in place (ADD COLUMN, never a table rebuild, so columns other
-- branches add to volumes survive).

-- AlterTable
ALTER TABLE "volumes" ADD COLUMN     "volume_type_id" TEXT;

-- CreateTable
CREATE TABLE "volume_types" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "live_name" TEXT,
    "description" TEXT,
    "is_public" BOOLEAN NOT NULL DEFAULT true,
    "qos_specs_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "volume_types_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "volume_type_extra_specs" (
    "id" SERIAL NOT NULL,
    "volume_type_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "volume_type_extra_specs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "volume_type_projects" (
    "id" SERIAL NOT NULL,
    "volume_type_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "volume_type_projects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "encryption" (
    "encryption_id" TEXT NOT NULL,
    "volume_type_id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "cipher" TEXT,
    "key_size" INTEGER,
    "control_location" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "encryption_pkey" PRIMARY KEY ("encryption_id")
);

-- CreateTable
CREATE TABLE "qos_specs" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "live_name" TEXT,
    "consumer" TEXT NOT NULL DEFAULT 'back-end',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "qos_specs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "qos_specs_keys" (
    "id" SERIAL NOT NULL,
    "qos_specs_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "qos_specs_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "volume_types_live_name_key" ON "volume_types"("live_name");

-- CreateIndex
CREATE INDEX "volume_types_qos_specs_id_idx" ON "volume_types"("qos_specs_id");

-- CreateIndex
CREATE UNIQUE INDEX "volume_type_extra_specs_volume_type_id_key_key" ON "volume_type_extra_specs"("volume_type_id", "key");

-- CreateIndex
CREATE UNIQUE INDEX "volume_type_projects_volume_type_id_project_id_key" ON "volume_type_projects"("volume_type_id", "project_id");

-- CreateIndex
CREATE UNIQUE INDEX "encryption_volume_type_id_key" ON "encryption"("volume_type_id");

-- CreateIndex
CREATE UNIQUE INDEX "qos_specs_live_name_key" ON "qos_specs"("live_name");

-- CreateIndex
CREATE UNIQUE INDEX "qos_specs_keys_qos_specs_id_key_key" ON "qos_specs_keys"("qos_specs_id", "key");

-- CreateIndex
CREATE INDEX "volumes_volume_type_id_idx" ON "volumes"("volume_type_id");

-- AddForeignKey
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_volume_type_id_fkey" FOREIGN KEY ("volume_type_id") REFERENCES "volume_types"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "volume_types" ADD CONSTRAINT "volume_types_qos_specs_id_fkey" FOREIGN KEY ("qos_specs_id") REFERENCES "qos_specs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "volume_type_extra_specs" ADD CONSTRAINT "volume_type_extra_specs_volume_type_id_fkey" FOREIGN KEY ("volume_type_id") REFERENCES "volume_types"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "volume_type_projects" ADD CONSTRAINT "volume_type_projects_volume_type_id_fkey" FOREIGN KEY ("volume_type_id") REFERENCES "volume_types"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "encryption" ADD CONSTRAINT "encryption_volume_type_id_fkey" FOREIGN KEY ("volume_type_id") REFERENCES "volume_types"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "qos_specs_keys" ADD CONSTRAINT "qos_specs_keys_qos_specs_id_fkey" FOREIGN KEY ("qos_specs_id") REFERENCES "qos_specs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Cinder's default type, created by its migration as here: volumes that name no type get it,
-- and every existing volume has it.
INSERT INTO "volume_types" ("id", "name", "live_name", "description", "is_public", "created_at", "updated_at", "deleted")
VALUES ('1ea29a9f-6a34-4f14-a8a2-6b0d4b2c0001', '__DEFAULT__', '__DEFAULT__', 'Default Volume Type', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false);
UPDATE "volumes" SET "volume_type_id" = '1ea29a9f-6a34-4f14-a8a2-6b0d4b2c0001' WHERE "volume_type_id" IS NULL;
