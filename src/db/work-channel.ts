// The PostgreSQL channel jobs are announced on: the store NOTIFYs it (store/dialect.ts
// `notifyWork`), the work listener LISTENs on it (work-listener.ts). A module of its own so the
// store can name it without loading `pg`, which an SQLite-only process never needs.
export const WORK_CHANNEL = 'assisted_snapshots_work';
