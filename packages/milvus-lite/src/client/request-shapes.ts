import { RefusedRequestError } from '../errors.js';

/** The parts of a DescribeCollection answer the checks read (enums arrive as names or numbers). */
interface FieldSchema {
  name: string;
  data_type?: string | number;
  is_primary_key?: boolean;
  autoID?: boolean;
  nullable?: boolean;
  default_value?: unknown;
  is_function_output?: boolean;
  is_dynamic?: boolean;
}
interface FieldData {
  field_name?: string;
  type?: string | number;
  is_dynamic?: boolean;
  valid_data?: boolean[];
  scalars?: Record<string, { data?: unknown[] } | undefined>;
  vectors?: { dim?: number | string; [key: string]: unknown };
}
interface WriteRequest {
  collection_name?: string;
  db_name?: string;
  num_rows?: number;
  fields_data?: FieldData[];
}

// Calls after which a cached schema may be wrong.
const kSchemaChanges = new Set(['CreateCollection', 'DropCollection', 'RenameCollection', 'AddCollectionField', 'AlterCollection', 'AlterCollectionField', 'AlterCollectionSchema']);
const kDynamicField = '$meta';

const keyOf = (request: { collection_name?: unknown; db_name?: unknown }): string => `${typeof request.db_name === 'string' ? request.db_name : ''}/${String(request.collection_name)}`;

const lengthOf = (value: unknown): number | undefined => (Array.isArray(value) || value instanceof Uint8Array ? (value as { length: number }).length : undefined);

/**
 * How many rows a column gives a value (null and left-out rows are not values), or undefined when
 * its encoding is not one this knows. Scalars: the non-null entries of its data; vectors: the bytes
 * or numbers over one row's size (sparse: one entry per row); undefined for a vector column that is no
 * whole number of rows (a wrong dimension, which milvus-lite refuses itself).
 */
function valueCount(column: FieldData): number | undefined {
  if (column.scalars !== undefined) {
    let count = 0;
    for (const scalar of Object.values(column.scalars)) count = Math.max(count, scalar?.data?.filter((value) => value !== null && value !== undefined).length ?? 0);
    return count;
  }
  const vectors = column.vectors;
  if (vectors === undefined) return undefined;
  const dim = Number(vectors.dim);
  const sparse = (vectors['sparse_float_vector'] as { contents?: unknown } | undefined)?.contents;
  if (sparse !== undefined) return lengthOf(sparse);
  const perRow: [key: string, bytes: number][] = [['float_vector', 1], ['binary_vector', 1 / 8], ['float16_vector', 2], ['bfloat16_vector', 2], ['int8_vector', 1]];
  for (const [key, size] of perRow) {
    const value = vectors[key];
    const length = lengthOf(key === 'float_vector' ? (value as { data?: unknown } | undefined)?.data : value);
    // A length that is no whole number of rows is a wrong dimension, which milvus-lite refuses itself.
    if (length !== undefined && dim > 0) return length % (dim * size) === 0 ? length / (dim * size) : undefined;
  }
  return undefined;
}

/** Whether every row of a write must give `field` a value: not nullable, no default, not filled by the server. */
function required(field: FieldSchema, method: string): boolean {
  if (field.nullable === true || (field.default_value !== null && field.default_value !== undefined)) return false;
  if (field.is_function_output === true || field.is_dynamic === true || field.name === kDynamicField) return false;
  // An insert into an auto-id collection leaves the key to the server; an upsert names the row it replaces.
  return !(field.is_primary_key === true && field.autoID === true && method === 'Insert');
}

/**
 * The request shapes that crash milvus-lite 2.5's server (SIGSEGV, every handle of the database
 * lost with it) or make it store garbage, found by hand and by the property test in
 * test/request-shapes.property.test.ts, each refused before it is sent. One per client: it
 * remembers the schemas its DescribeCollection answers carried (the SDK describes a collection
 * before each insert and upsert), forgetting one when its collection is created, dropped, renamed
 * or altered. Refused (checked against milvus-lite 2.5.1):
 * - rows that leave out, or give null for, a field that is not nullable and has no default value
 *   (Int64, VarChar, Bool, Float, JSON, Array, SparseFloatVector…): SIGSEGV when every row does;
 *   when only some rows do, an Int64's missing value is stored as uninitialised memory;
 * - an upsert whose rows leave out the primary key, auto-id or not, and an insert whose rows leave
 * out a primary key that is not auto-id: SIGSEGV;
 * - rows that leave out a field with a default value (the SDK sends it as not valid): SIGSEGV.
 * Not refused: a nullable field left out (milvus-lite 3.x accepts it; 2.5 refuses such a field at
 * create), the auto-id key of an insert, a function's output field (a BM25 sparse vector), and the
 * dynamic field `$meta`.
 */
export class RequestShapes {
  readonly #schemas = new Map<string, FieldSchema[]>();

  /** Notes what a request changes; throws a `RefusedRequestError` for a shape that crashes milvus-lite. */
  check(method: string, argument: unknown): void {
    if (typeof argument !== 'object' || argument === null) return;
    const request = argument as WriteRequest;
    if (kSchemaChanges.has(method)) {
      this.#schemas.delete(keyOf(request));
      // A rename's new name, and any database's collection of that name, are stale too.
      for (const key of this.#schemas.keys()) if (key.endsWith(`/${String(request.collection_name)}`)) this.#schemas.delete(key);
      return;
    }
    if (method !== 'Insert' && method !== 'Upsert') return;
    const collection = String(request.collection_name);
    const columns = request.fields_data ?? [];
    const rows = request.num_rows ?? 0;
    const schema = this.#schemas.get(keyOf(request));
    const refuse = (field: string, what: string, fix: string): never => {
      throw new RefusedRequestError(method, collection, field, `${method} into ${collection} was not sent: ${what}. ${fix}`);
    };
    const leftOut = (name: string): never => {
      const field = schema?.find((f) => f.name === name);
      if (field?.is_primary_key === true && method === 'Upsert') {
        const why = field.autoID === true ? `the collection's primary key "${name}" is auto-id, the rows leave it out` : `the rows leave out the collection's primary key "${name}"`;
        refuse(name, `${why}, and milvus-lite 2.5 crashes on that (SIGSEGV)`, `Give every row its "${name}" (the id of the row it replaces), or insert new rows instead`);
      }
      if (field?.is_primary_key === true) {
        refuse(name, `the rows leave out the collection's primary key "${name}" (or give it null), which is not auto-id, and milvus-lite 2.5 crashes on that (SIGSEGV)`, `Give every row its "${name}", or create the collection with autoID on it`);
      }
      return refuse(
        name,
        `rows leave out the field "${name}" (or give it null), which is not nullable and has no default value, and milvus-lite 2.5 crashes on that (SIGSEGV), or stores garbage for it when only some rows do`,
        `Give "${name}" a value in every row, or create the collection with a default value for it`,
      );
    };
    for (const column of columns) {
      const name = String(column.field_name);
      if (column.is_dynamic === true || name === kDynamicField) continue;
      const field = schema?.find((f) => f.name === name);
      if ((column.valid_data?.length ?? 0) > 0) {
        // Rows that leave out a field with a default value (any type: the VarChar, and by the
        // property test Int32, Int64, Bool too): the SDK sends it as not valid. A nullable field may be left out.
        if (field?.nullable !== true && column.valid_data?.includes(false) === true) {
          refuse(name, `rows leave out the field "${name}", which has a default value, and milvus-lite 2.5 crashes on that (SIGSEGV)`, `Give "${name}" a value in every row (its default value where that is what you mean)`);
        }
        continue;
      }
      if (field !== undefined && !required(field, method)) continue;
      const count = valueCount(column);
      if (count !== undefined && count < rows) leftOut(name);
    }
    // A column the request leaves out altogether (a partial update's) is not checked: milvus-lite 2.5.1
    // answers it with code 1100 "invalid parameter" and lives on.
  }

  /** Remembers the schema a DescribeCollection answer carried. */
  remember(request: unknown, response: unknown): void {
    const fields = (response as { schema?: { fields?: FieldSchema[] } } | null)?.schema?.fields;
    if (typeof request === 'object' && request !== null && Array.isArray(fields)) this.#schemas.set(keyOf(request as WriteRequest), fields);
  }
}
