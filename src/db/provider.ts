// Which database a URL names; the one fact both the client and the raw-SQL runner need.
export type Provider = 'sqlite' | 'postgresql';

export function providerOf(url: string): Provider {
  if (url.startsWith('file:')) return 'sqlite';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgresql';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new Error(
    `Unsupported database URL ${scheme ? `scheme "${scheme}:"` : JSON.stringify(url)}: ` +
      'expected file:<path> (SQLite) or postgres://… / postgresql://… (PostgreSQL)',
  );
}
