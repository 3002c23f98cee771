// `npm run migrate`: apply the committed migrations to DATABASE_URL without starting the service
// (`npm start` does the same on its own start).
import { loadConfig } from '../config.js';
import { migrateDeploy } from '../db/migrate.js';

const { DATABASE_URL } = loadConfig();
await migrateDeploy(DATABASE_URL);
console.log(`migrations applied to ${DATABASE_URL.replace(/\/\/[^@/]*@/, '//***@')}`);
