-- DropForeignKey
ALTER TABLE "outbox" DROP CONSTRAINT "outbox_snapshot_id_fkey";

-- AlterTable
ALTER TABLE "volumes" ADD COLUMN     "error_reason" TEXT,
ADD COLUMN     "machine_state" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "phase" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "phase_entered_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "version" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "outbox" ADD COLUMN     "volume_id" TEXT,
ALTER COLUMN "snapshot_id" DROP NOT NULL;

-- CreateTable
CREATE TABLE "volume_transitions" (
    "id" SERIAL NOT NULL,
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
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "volume_transitions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "volume_transitions_volume_id_id_idx" ON "volume_transitions"("volume_id", "id");

-- CreateIndex
CREATE INDEX "outbox_volume_id_idx" ON "outbox"("volume_id");

-- AddForeignKey
ALTER TABLE "volume_transitions" ADD CONSTRAINT "volume_transitions_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_volume_id_fkey" FOREIGN KEY ("volume_id") REFERENCES "volumes"("id") ON DELETE SET NULL ON UPDATE CASCADE;

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
ALTER TABLE "volumes" ALTER COLUMN "machine_state" DROP DEFAULT, ALTER COLUMN "phase" DROP DEFAULT;
