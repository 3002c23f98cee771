// Vitest global setup: once per run, migrate a template SQLite file and a template PostgreSQL
// database, hand their locations to the test workers (inject('testDatabases')), and remove
// everything this run created at the end. test/support/databases.ts copies the templates.
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateDeploy } from '../../src/db/migrate.js';
import { adminUrl, dropDatabasesWithPrefix, quoteIdent, withAdminClient } from './pg-admin.js';

export interface TestDatabases {
  /** Unique to this run; every database name and file made by the run starts with its prefix. */
  runId: string;
  /** Directory for this run's SQLite files (removed at teardown). */
  runDir: string;
  /** Absolute path of the migrated SQLite template file. */
  sqliteTemplate: string;
  /** Admin connection URL (database `postgres`). */
  postgresAdminUrl: string;
  /** Name of the migrated PostgreSQL template database. */
  postgresTemplate: string;
  /** Prefix of every PostgreSQL database created by this run (template included). */
  postgresPrefix: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabases: TestDatabases;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const runDir = path.join(os.tmpdir(), `assisted-snapshots-tests-${process.pid}`);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });

  const postgresPrefix = `as_test_${runId}`;
  const postgresTemplate = `${postgresPrefix}_template`;
  const admin = adminUrl();

  const teardown = async (): Promise<void> => {
    await dropDatabasesWithPrefix(admin, postgresPrefix).catch((err: unknown) => {
      console.warn(`[global-setup] could not drop test databases ${postgresPrefix}_*: ${String(err)}`);
    });
    rmSync(runDir, { recursive: true, force: true });
  };

  try {
    const sqliteTemplate = path.join(runDir, 'template.db');
    await Promise.all([
      migrateDeploy(`file:${sqliteTemplate}`),
      (async () => {
        await withAdminClient(admin, async (client: pg.Client) => {
          await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(postgresTemplate)} WITH (FORCE)`);
          await client.query(`CREATE DATABASE ${quoteIdent(postgresTemplate)}`);
        });
        const templateUrl = new URL(admin);
        templateUrl.pathname = `/${postgresTemplate}`;
        await migrateDeploy(templateUrl.toString());
      })(),
    ]);
    project.provide('testDatabases', {
      runId,
      runDir,
      sqliteTemplate,
      postgresAdminUrl: admin,
      postgresTemplate,
      postgresPrefix,
    });
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
