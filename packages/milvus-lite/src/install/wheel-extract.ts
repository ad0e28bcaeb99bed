import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { MilvusLiteInstallError } from '../errors.js';
import { hashingMeter, parseRecord, type RecordEntry } from './verify.js';
import { diskOrNetworkError } from './wheel-download.js';

const kLib = 'milvus_lite/lib/';
const kParallel = 3;

/**
 * Extracts `milvus_lite/lib/*` of the wheel `wheelPath` into `<dest>/lib/` with each entry's unix
 * mode, checking every file against the wheel's RECORD as it is written (sha256 and size; a file
 * RECORD lists that the wheel lacks, or one it does not list, is refused too). Resolves the RECORD
 * entries. Throws a `MilvusLiteInstallError`; the caller removes `dest` on failure.
 */
export async function extractLib(wheelPath: string, dest: string, onProgress?: (done: number, total: number) => void): Promise<RecordEntry[]> {
  const zip = await openZip(wheelPath);
  try {
    const entries = await readEntries(zip);
    const recordEntry = entries.find((e) => /^[^/]+\.dist-info\/RECORD$/.test(e.fileName));
    if (recordEntry === undefined) throw new MilvusLiteInstallError(`${wheelPath} has no .dist-info/RECORD: not a wheel; nothing was installed`);
    const record = parseRecord(await readText(zip, recordEntry), wheelPath);
    const expected = new Map(record.map((r) => [r.name, r]));
    const lib = entries.filter((e) => e.fileName.startsWith(kLib) && !e.fileName.endsWith('/'));
    const total = lib.reduce((sum, e) => sum + e.uncompressedSize, 0);
    await mkdir(join(dest, 'lib'), { recursive: true });
    let done = 0;
    const checkEntry = async (entry: Entry): Promise<void> => {
      const name = entry.fileName.slice(kLib.length);
      const want = expected.get(name);
      if (name.includes('/') || name === '..' || want === undefined) throw new MilvusLiteInstallError(`${wheelPath}: ${entry.fileName} is not in its RECORD (or is not a plain file of lib/); nothing was installed`);
      const mode = (entry.externalFileAttributes >>> 16) & 0o170777;
      if ((mode & 0o170000) !== 0 && (mode & 0o170000) !== 0o100000) throw new MilvusLiteInstallError(`${wheelPath}: ${entry.fileName} is not a regular file (mode ${mode.toString(8)}); nothing was installed`);
      const { sha256, size } = await writeEntry(zip, entry, join(dest, 'lib', name), (mode & 0o777) || 0o644, (n) => onProgress?.((done += n), total));
      if (sha256 !== want.sha256 || size !== want.size) {
        throw new MilvusLiteInstallError(`${wheelPath}: ${entry.fileName} has sha256 ${sha256} (${size} bytes), but the wheel's RECORD says ${want.sha256} (${want.size} bytes): the wheel is damaged; nothing was installed`);
      }
      expected.delete(name);
    };
    // A few entries at once: inflating runs on libuv's thread pool, so the big three overlap.
    const queue = [...lib].sort((a, b) => b.uncompressedSize - a.uncompressedSize);
    const workers = Array.from({ length: Math.min(kParallel, queue.length) }, async () => {
      for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
        await checkEntry(entry).catch((error: unknown) => {
          queue.length = 0; // the others stop after the file they are on
          throw error;
        });
      }
    });
    const results = await Promise.allSettled(workers);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    if (expected.size > 0) throw new MilvusLiteInstallError(`${wheelPath}: its RECORD lists ${[...expected.keys()].map((n) => kLib + n).join(', ')}, which the wheel lacks; nothing was installed`);
    return record;
  } finally {
    zip.close();
  }
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true }, (error, zip) => {
      if (error) reject(new MilvusLiteInstallError(`${path} is not a readable wheel (zip): ${error.message}; download it again`, { cause: error }));
      else resolve(zip);
    });
  });
}

function readEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', (error: Error) => reject(new MilvusLiteInstallError(`the wheel is not a valid zip: ${error.message}`, { cause: error })));
    zip.readEntry();
  });
}

function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => (error ? reject(new MilvusLiteInstallError(`cannot read ${entry.fileName} from the wheel: ${error.message}`, { cause: error })) : resolve(stream)));
  });
}

async function readText(zip: ZipFile, entry: Entry): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await openEntry(zip, entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function writeEntry(zip: ZipFile, entry: Entry, path: string, mode: number, onBytes: (n: number) => void): Promise<{ sha256: string; size: number }> {
  const meter = hashingMeter(onBytes);
  const source = await openEntry(zip, entry);
  // The entry is piped, not put in the pipeline: a failed write (a full disk) must not destroy it.
  // yauzl's raw reader crashes the process (null context in fd-slicer) when destroyed with a read
  // queued; so on failure the entry is drained to its end instead, then the error thrown.
  const drained = new Promise<void>((resolve) => {
    source.once('end', resolve).once('close', resolve);
  });
  source.once('error', (error) => meter.stream.destroy(error));
  source.pipe(meter.stream);
  try {
    await pipeline(meter.stream, createWriteStream(path, { flags: 'wx', mode }));
  } catch (error) {
    source.unpipe(meter.stream);
    source.resume();
    await drained;
    if (error instanceof MilvusLiteInstallError) throw error;
    throw diskOrNetworkError(error, `extracting ${entry.fileName} to ${path}`);
  }
  return meter.digest();
}
