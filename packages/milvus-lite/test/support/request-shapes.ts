// Field types and row shapes milvus-lite 2.5 accepts, as fast-check arbitraries, and one case run
// against a real server: used by the bounded property test and by `pnpm soak`.
import fc from 'fast-check';
import { DataType, type MilvusClient } from '@zilliz/milvus2-sdk-node';

/** Scalar types with the default value the case gives them (undefined: no default). */
const kScalars = [
  { type: DataType.Bool, value: (i: number) => i % 2 === 0, fallback: true },
  { type: DataType.Int8, value: (i: number) => i % 100, fallback: 3 },
  { type: DataType.Int16, value: (i: number) => i, fallback: 3 },
  { type: DataType.Int32, value: (i: number) => i, fallback: 3 },
  { type: DataType.Int64, value: (i: number) => i, fallback: 3 },
  { type: DataType.Float, value: (i: number) => i / 2, fallback: 1.5 },
  { type: DataType.Double, value: (i: number) => i / 4, fallback: 1.25 },
  { type: DataType.VarChar, value: (i: number) => `v${i}`, fallback: 'dflt' },
  { type: DataType.JSON, value: (i: number) => ({ i }), fallback: undefined },
] as const;

export type Given = 'value' | 'omitted' | 'null';

export interface ShapeCase {
  readonly autoId: boolean;
  readonly dim: number;
  readonly fields: readonly { readonly kind: number; readonly withDefault: boolean }[];
  readonly op: 'insert' | 'upsert';
  /** Per row: whether the primary key is given, and how each scalar field is: given, left out, or null. */
  readonly rows: readonly { readonly pk: boolean; readonly given: readonly Given[] }[];
  readonly loaded: boolean;
}

export const shapeCase: fc.Arbitrary<ShapeCase> = fc
  .record({
    autoId: fc.boolean(),
    dim: fc.integer({ min: 2, max: 8 }),
    fields: fc.array(fc.record({ kind: fc.nat(kScalars.length - 1), withDefault: fc.boolean() }), { maxLength: 4 }),
    op: fc.constantFrom('insert' as const, 'upsert' as const),
    loaded: fc.boolean(),
    rowCount: fc.integer({ min: 1, max: 3 }),
    wellFormed: fc.boolean(),
  })
  .chain((base) =>
    fc.record({
      autoId: fc.constant(base.autoId),
      dim: fc.constant(base.dim),
      fields: fc.constant(base.fields.map((f) => ({ ...f, withDefault: f.withDefault && kScalars[f.kind]!.fallback !== undefined }))),
      op: fc.constant(base.op),
      loaded: fc.constant(base.loaded),
      // Any field may be left out or null in any row (with a default or not), and any row may leave
      // out the key (auto-id or not): the shapes that crash milvus-lite are all in here, refused by the guard.
      rows: fc.array(fc.record({ pk: fc.boolean(), given: fc.array(fc.constantFrom<Given>('value', 'value', 'omitted', 'null'), { minLength: base.fields.length, maxLength: base.fields.length }) }), { minLength: base.rowCount, maxLength: base.rowCount }),
      wellFormed: fc.constant(base.wellFormed),
    }),
  )
  // Half the cases give every field without a default, and the key unless it is auto-id (what
  // milvus-lite accepts, so that writes reach the server); the other half are free.
  .map(({ wellFormed, ...c }) =>
    wellFormed ? { ...c, rows: c.rows.map((r) => ({ pk: r.pk || !c.autoId, given: r.given.map((g, i) => (c.fields[i]!.withDefault ? g : 'value')) })) } : c,
  );

/** Creates collection `name` of `shape` and sends its write; resolves what the call gave (never rejects). */
export async function runShape(client: MilvusClient, name: string, shape: ShapeCase): Promise<unknown> {
  await client.createCollection({
    collection_name: name,
    fields: [
      { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: shape.autoId },
      { name: 'v', data_type: DataType.FloatVector, dim: shape.dim },
      ...shape.fields.map((f, i) => {
        const scalar = kScalars[f.kind]!;
        return {
          name: `f${i}`,
          data_type: scalar.type,
          ...(scalar.type === DataType.VarChar ? { max_length: 16 } : {}),
          // A Bool default is sent as given; the SDK's FieldType types default_value as number | string.
          ...(f.withDefault && scalar.fallback !== undefined ? { default_value: scalar.fallback as number | string } : {}),
        };
      }),
    ],
  });
  if (shape.loaded) {
    await client.createIndex({ collection_name: name, field_name: 'v', index_type: 'FLAT', metric_type: 'L2' });
    await client.loadCollection({ collection_name: name });
  }
  const data = shape.rows.map((row, r) => ({
    ...(row.pk ? { id: r + 1 } : {}),
    v: Array.from({ length: shape.dim }, (_, d) => Math.sin(r + d)),
    ...Object.fromEntries(shape.fields.flatMap((f, i) => (row.given[i] === 'omitted' ? [] : [[`f${i}`, row.given[i] === 'null' ? null : kScalars[f.kind]!.value(r)]]))),
  }));
  return client[shape.op]({ collection_name: name, data }).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** A short name for what a case left out, the crash kind it stands for. */
export function kindOf(shape: ShapeCase): string {
  const left = shape.fields.flatMap((f, i) => {
    const how = [...new Set(shape.rows.flatMap((r) => (r.given[i] === 'value' ? [] : [r.given[i]!])))];
    const some = shape.rows.some((r) => r.given[i] === 'value') ? 'some rows ' : '';
    return how.length > 0 ? [`${some}${how.join('/')} ${f.withDefault ? 'defaulted' : 'no-default'} ${DataType[kScalars[f.kind]!.type]}`] : [];
  });
  const pkLeft = shape.rows.some((r) => !r.pk);
  return `${shape.op}${shape.autoId ? ' auto-id' : ''}${pkLeft ? ' without pk' : ''}${left.length ? ` with ${left.join(', ')}` : ''}${shape.loaded ? ' (loaded)' : ''}`;
}
