// Reads a Parquet file with DuckDB, an independent reader, and prints
// what research/format_parquet_test.go compares: the columns' DuckDB
// types, their repetition (REQUIRED or OPTIONAL) and logical types in the
// file's schema, the key/value metadata, and every row as JSON (BIGINT as
// text, DATE as YYYY-MM-DD, null for a missing value).
// Usage: node read_parquet.mjs FILE.parquet
import { DuckDBInstance } from '@duckdb/node-api';

const file = process.argv[2];
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const data = await c.runAndReadAll('SELECT * FROM read_parquet($1)', [file]);
const schema = await c.runAndReadAll(
  'SELECT name, repetition_type, logical_type FROM parquet_schema($1) WHERE num_children IS NULL OR num_children = 0', [file]);
const kv = await c.runAndReadAll(
  'SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata($1) ORDER BY key', [file]);
const rowGroups = await c.runAndReadAll('SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata($1)', [file]);
const types = data.columnTypes().map(String);
const columns = data.columnNames().map((name, i) => ({ name, type: types[i] }));
console.log(JSON.stringify({
  columns,
  schema: schema.getRowObjectsJson(),
  metadata: Object.fromEntries(kv.getRowObjectsJson().map(r => [r.key, r.value])),
  row_groups: Number(rowGroups.getRowObjectsJson()[0].n),
  rows: data.getRowsJson(),
}));
