// Printing results: console.table for a terminal, a markdown table to paste.

export type Cell = string | number | null | undefined;
export type Row = Record<string, Cell>;

export function printTables(title: string, rows: Row[]) {
  if (rows.length === 0) return;
  console.log(`\n${title}`);
  console.table(rows);
  console.log(markdown(rows));
}

export function markdown(rows: Row[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const numeric = columns.map((c) => rows.every((r) => r[c] === undefined || r[c] === null || typeof r[c] === 'number'));
  const cell = (v: Cell) => (v === undefined || v === null ? '' : String(v).replace(/\|/g, '\\|'));
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map((_, i) => (numeric[i] ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${columns.map((c) => cell(r[c])).join(' | ')} |`),
  ].join('\n');
}
