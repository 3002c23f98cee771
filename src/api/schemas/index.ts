/** Request schemas of the REST API; the types are what handlers receive after parsing. */
export * from './common.js';
export * from './params.js';
export * from './snapshots.js';
export * from './volumes.js';
export * from './volume-types.js';
export * from './quotas.js';
export * from './groups.js';
export * from './transfers.js';
