// Small hand-made wheels for the bad-input tests (yazl, the writer of yauzl's author).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import yazl from 'yazl';

export interface FakeWheelFile {
  readonly name: string;
  readonly content: Buffer;
  readonly mode?: number;
  /** What RECORD says for it: default its real hash; a string replaces the hash; `null` leaves it out. */
  readonly record?: string | null;
  /** `false`: listed in RECORD only, not put in the zip. */
  readonly inZip?: boolean;
}

const b64 = (data: Buffer): string => createHash('sha256').update(data).digest('base64url');

/** Writes a wheel of `milvus_lite-<version>` holding `files` (paths inside it) and a RECORD for them. */
export async function makeWheel(path: string, version: string, files: readonly FakeWheelFile[]): Promise<string> {
  const zip = new yazl.ZipFile();
  const record: string[] = [];
  for (const file of files) {
    if (file.inZip !== false) zip.addBuffer(file.content, file.name, { mode: 0o100000 | (file.mode ?? 0o755) });
    if (file.record !== null) record.push(`${file.name},sha256=${file.record ?? b64(file.content)},${file.content.length}`);
  }
  const info = `milvus_lite-${version}.dist-info`;
  record.push(`${info}/RECORD,,`);
  zip.addBuffer(Buffer.from(`${record.join('\n')}\n`), `${info}/RECORD`, { mode: 0o100644 });
  zip.end();
  const out = createWriteStream(path);
  zip.outputStream.pipe(out);
  await once(out, 'close');
  return path;
}
