-- Quotas (os-quota-sets) and quota classes (os-quota-class-sets): limits only, usage is counted
-- from the volumes and snapshots rows.
-- CreateTable
CREATE TABLE "quotas" (
    "project_id" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "hard_limit" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "quotas_pkey" PRIMARY KEY ("project_id","resource")
);

-- CreateTable
CREATE TABLE "quota_classes" (
    "class_name" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "hard_limit" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "quota_classes_pkey" PRIMARY KEY ("class_name","resource")
);
