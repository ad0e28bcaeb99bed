import type { FileHandle } from 'node:fs/promises';

/**
 * The names of the tables an SQLite database file declares, read from its schema table
 * (`sqlite_schema`, the b-tree rooted at page 1) without SQLite and without writing anything: what
 * tells a milvus-lite database (it has `collection_meta`) from another program's. Follows the file
 * format (sqlite.org/fileformat2.html): the header's page size and text encoding, table b-tree
 * pages (interior 0x05, leaf 0x0D), cells' varints and records. Undefined when the file cannot be
 * read that way (not SQLite, a page past the end, a loop): the caller then decides as it did before.
 */
export async function sqliteTableNames(handle: FileHandle): Promise<string[] | undefined> {
  const header = Buffer.alloc(100);
  if ((await handle.read(header, 0, 100, 0)).bytesRead < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') return undefined;
  const rawSize = header.readUInt16BE(16);
  const pageSize = rawSize === 1 ? 65536 : rawSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const usable = pageSize - header[20]!;
  const encoding = header.readUInt32BE(56);
  const decode = (bytes: Buffer): string => (encoding === 2 ? bytes.toString('utf16le') : encoding === 3 ? Buffer.from(bytes).swap16().toString('utf16le') : bytes.toString('utf8'));
  const names: string[] = [];
  const seen = new Set<number>();
  const visit = async (pageNumber: number): Promise<boolean> => {
    if (seen.has(pageNumber) || seen.size > 10_000) return false;
    seen.add(pageNumber);
    const page = Buffer.alloc(pageSize);
    if ((await handle.read(page, 0, pageSize, (pageNumber - 1) * pageSize)).bytesRead < pageSize) return false;
    const at = pageNumber === 1 ? 100 : 0;
    const type = page[at];
    const cells = page.readUInt16BE(at + 3);
    if (type === 0x05) {
      for (let i = 0; i < cells; i++) if (!(await visit(page.readUInt32BE(page.readUInt16BE(at + 12 + 2 * i))))) return false;
      return visit(page.readUInt32BE(at + 8));
    }
    if (type !== 0x0d) return false;
    for (let i = 0; i < cells; i++) {
      const row = schemaRow(page, page.readUInt16BE(at + 8 + 2 * i), usable, decode);
      if (row === undefined) return false;
      if (row.type === 'table') names.push(row.name);
    }
    return true;
  };
  return (await visit(1)) ? names : undefined;
}

/** A varint at `at`: its value (exact below 2^53) and length in bytes. */
function varint(page: Buffer, at: number): { value: number; length: number } {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const byte = page[at + i] ?? 0;
    if (i === 8) return { value: value * 256 + byte, length: 9 };
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return { value, length: i + 1 };
  }
  return { value, length: 9 };
}

/** The `type` and `name` columns of one schema row (a leaf cell at `at`), from the part of its record stored on the page. */
function schemaRow(page: Buffer, at: number, usable: number, decode: (bytes: Buffer) => string): { type: string; name: string } | undefined {
  const payload = varint(page, at);
  const rowid = varint(page, at + payload.length);
  const start = at + payload.length + rowid.length;
  // The bytes of the record on this page (the rest, if any, is on overflow pages).
  const max = usable - 35;
  const min = Math.floor(((usable - 12) * 32) / 255) - 23;
  const spill = min + ((payload.value - min) % (usable - 4));
  const local = payload.value <= max ? payload.value : spill <= max ? spill : min;
  const record = page.subarray(start, Math.min(start + local, page.length));
  const headerSize = varint(record, 0);
  const types: number[] = [];
  for (let p = headerSize.length; p < headerSize.value && types.length < 2; ) {
    const serial = varint(record, p);
    types.push(serial.value);
    p += serial.length;
  }
  const text = (serial: number | undefined, from: number): string | undefined => (serial !== undefined && serial >= 13 && serial % 2 === 1 && from + (serial - 13) / 2 <= record.length ? decode(record.subarray(from, from + (serial - 13) / 2)) : undefined);
  const type = text(types[0], headerSize.value);
  const name = type === undefined ? undefined : text(types[1], headerSize.value + (types[0]! - 13) / 2);
  return type === undefined || name === undefined ? undefined : { type, name };
}
