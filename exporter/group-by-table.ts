import type { TableName, TableRow } from '../database/analytics-database.js';

/** Rows by table, each table's in their order. */
export function groupByTable(entries: readonly TableRow[]): Map<TableName, TableRow[]> {
  const byTable = new Map<TableName, TableRow[]>();
  for (const entry of entries) {
    const list = byTable.get(entry.table);
    if (list) list.push(entry);
    else byTable.set(entry.table, [entry]);
  }
  return byTable;
}
