/** A node of `EXPLAIN (FORMAT JSON)`. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** The first row `EXPLAIN (FORMAT JSON)` returns. */
export type ExplainRow = { 'QUERY PLAN': [{ Plan: PlanNode }] };

/**
 * What a plan reads of the tables and indexes named by `tables` and `indexes`: the indexes it
 * reads, and its whole-table reads: a sequential scan of such a table, or such an index read
 * from end to end (no condition), which is a whole-table scan too.
 */
export function planReads(
  explained: ExplainRow,
  { tables, indexes }: { tables: RegExp; indexes: RegExp },
): { indexes: string[]; wholeTable: string[] } {
  const found = { indexes: [] as string[], wholeTable: [] as string[] };
  const walk = (plan: PlanNode): void => {
    const relation = plan['Relation Name'] ?? '';
    const index = plan['Index Name'] ?? '';
    if (plan['Node Type'] === 'Seq Scan' && tables.test(relation))
      found.wholeTable.push(`seq scan of ${relation}`);
    if (indexes.test(index)) {
      found.indexes.push(index);
      if (plan['Index Cond'] === undefined) found.wholeTable.push(`whole index ${index}`);
    }
    for (const child of plan.Plans ?? []) walk(child);
  };
  walk(explained['QUERY PLAN'][0].Plan);
  return found;
}
