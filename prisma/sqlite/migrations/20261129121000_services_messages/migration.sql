-- Cinder's services (heartbeats of each instance's roles) and user messages (API 3.3): new tables only.
-- CreateTable
CREATE TABLE "services" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "host" TEXT NOT NULL,
    "binary" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "availability_zone" TEXT NOT NULL,
    "cluster_name" TEXT,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "disabled_reason" TEXT,
    "frozen" BOOLEAN NOT NULL DEFAULT false,
    "report_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME,
    "modified_at" DATETIME
);

-- CreateTable
CREATE TABLE "messages" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "project_id" TEXT NOT NULL,
    "request_id" TEXT NOT NULL,
    "resource_type" TEXT,
    "resource_uuid" TEXT,
    "event_id" TEXT NOT NULL,
    "message_level" TEXT NOT NULL,
    "detail_id" TEXT,
    "action_id" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" DATETIME NOT NULL,
    "deleted_at" DATETIME,
    "deleted" BOOLEAN NOT NULL DEFAULT false
);

-- CreateIndex
CREATE UNIQUE INDEX "services_host_binary_key" ON "services"("host", "binary");

-- CreateIndex
CREATE INDEX "messages_project_id_created_at_idx" ON "messages"("project_id", "created_at");

-- CreateIndex
CREATE INDEX "messages_expires_at_idx" ON "messages"("expires_at");

