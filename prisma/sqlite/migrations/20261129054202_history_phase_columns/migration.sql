-- RenameColumn
-- Written by hand: `prisma migrate diff` drops both columns and adds them again, which would
-- lose the phases of every history row. A rename keeps them.
ALTER TABLE "snapshot_transitions" RENAME COLUMN "from_state" TO "from_phase";
ALTER TABLE "snapshot_transitions" RENAME COLUMN "to_state" TO "to_phase";
