import { RefusedRequestError } from '../errors.js';

/** The parts of a DescribeCollection answer the checks read (enums arrive as names or numbers). */
interface FieldSchema {
  name: string;
  data_type?: string | number;
  is_primary_key?: boolean;
  autoID?: boolean;
}
interface FieldData {
  field_name?: string;
  type?: string | number;
  valid_data?: boolean[];
  scalars?: Record<string, { data?: unknown[] } | undefined>;
}
interface WriteRequest {
  collection_name?: string;
  db_name?: string;
  num_rows?: number;
  fields_data?: FieldData[];
}

// Calls after which a cached schema may be wrong.
const kSchemaChanges = new Set(['CreateCollection', 'DropCollection', 'RenameCollection', 'AddCollectionField', 'AlterCollection', 'AlterCollectionField', 'AlterCollectionSchema']);

const keyOf = (request: { collection_name?: unknown; db_name?: unknown }): string => `${typeof request.db_name === 'string' ? request.db_name : ''}/${String(request.collection_name)}`;

function valueCount(column: FieldData): number {
  let count = 0;
  for (const scalar of Object.values(column.scalars ?? {})) count = Math.max(count, scalar?.data?.length ?? 0);
  return count;
}

/**
 * The request shapes that crash milvus-lite 2.5's server (SIGSEGV, every handle of the database
 * lost with it), found by hand and by the property test in test/request-shapes.property.test.ts,
 * each refused before it is sent. One per client: it remembers the schemas its DescribeCollection
 * answers carried (the SDK describes a collection before each insert and upsert), forgetting one
 * when its collection is created, dropped, renamed or altered.
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
    for (const column of columns) {
      // Rows that leave out a field with a default value (any type: the VarChar, and by the
      // property test Int32, Int64, Bool, JSON's neighbours too): the SDK sends it as not valid.
      if (column.valid_data?.includes(false) === true) {
        const field = String(column.field_name);
        throw new RefusedRequestError(
          method,
          collection,
          field,
          `${method} into ${collection} was not sent: rows leave out the field "${field}", which has a default value, and milvus-lite 2.5 crashes on that (SIGSEGV). Give "${field}" a value in every row (its default value where that is what you mean)`,
        );
      }
    }
    if (method !== 'Upsert') return;
    const primary = this.#schemas.get(keyOf(request))?.find((field) => field.is_primary_key === true);
    if (primary?.autoID !== true) return;
    const column = columns.find((c) => c.field_name === primary.name);
    const rows = request.num_rows ?? 0;
    if (column === undefined || valueCount(column) < rows) {
      throw new RefusedRequestError(
        method,
        collection,
        primary.name,
        `Upsert into ${collection} was not sent: the collection's primary key "${primary.name}" is auto-id, the rows leave it out, and milvus-lite 2.5 crashes on that (SIGSEGV). Give every row its "${primary.name}" (the id of the row it replaces), or insert new rows instead`,
      );
    }
  }

  /** Remembers the schema a DescribeCollection answer carried. */
  remember(request: unknown, response: unknown): void {
    const fields = (response as { schema?: { fields?: FieldSchema[] } } | null)?.schema?.fields;
    if (typeof request === 'object' && request !== null && Array.isArray(fields)) this.#schemas.set(keyOf(request as WriteRequest), fields);
  }
}
