// `npm run inspector`: the relay between this service and the Stately inspector. The service
// (INSPECT=1) connects to it over WebSocket; a browser opening the printed URL gets a page that
// embeds https://stately.ai/inspect (so that browser needs internet access) and receives the
// relayed events. INSPECTOR_PORT chooses the port (default 8080, the service's default too).
import { createInspectorServer } from '@statelyai/inspect/server';

const port = Number(process.env.INSPECTOR_PORT ?? 8080);
const server = createInspectorServer({ port, autoOpen: false });
console.log(`Stately inspector relay on ws://localhost:${port}; open http://localhost:${port} in a browser with internet access`);
console.log(`then start the service with INSPECT=1${port === 8080 ? '' : ` INSPECT_URL=ws://localhost:${port}`} npm start`);
const stop = () => {
  server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
