// The cli layer: the leasehold-milvus command (serve, dump, doctor, migrate, install, status, stop;
// arguments and help in args.ts), dump.ts, migrate.ts (migrateDatabase) and on-demand.ts (the public
// functions that load their module on first call). It may import every layer below it.
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { InvalidKeyError, KeyLockedError, type LeasePool } from '@leasehold/pool';
import { cacheDir, DEFAULT_MILVUS_LITE_VERSION } from '../install/cache-dir.js';
import { InvalidDatabaseError, MigrateInputError, MigrationCountMismatchError, MilvusLiteNotFoundError, ServerExitedError } from '../errors.js';
import { SharedServerLostError } from '../share/shared-server.js';
import { findMilvusLite } from '../install/find-milvus-lite.js';
import { nativeInstallDir } from '../install/config.js';
import { installationChecks, platformChecks, type Check } from '../install/diagnose.js';
import { installNative, type NativeInstallResult } from '../install/install-native.js';
import { installReporter } from '../install/progress.js';
import { createMilvusLitePool } from '../pool/milvus-lite-pool.js';
import type { MilvusLiteServer } from '../target/milvus-lite-server.js';
import { makeOwnedTempDir, makeSocketDir, removeSocketDir } from '../server/socket-dir.js';
import { checkSourceDatabase } from '../server/database-path.js';
import type { MigrateSummary } from './migrate.js';
import { installMilvusLite, listSharedServers, migrateDatabase, stopSharedServer } from './on-demand.js';
import type { MilvusLitePoolOptions } from '../options.js';
import { engineOption, help, kExit, helpText, parse, UsageError } from './args.js';
import { packageVersion } from '../server/package-root.js';
import { isRemoteUri } from '../target/remote-uri.js';

/** `1 row`, `n rows`. */
const rows = (n: number): string => `${n} ${n === 1 ? 'row' : 'rows'}`;

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' }, engine: { type: 'string' }, port: { type: 'string' }, share: { type: 'boolean' } }, 1);
  if (values['help']) return help('serve');
  const db = positionals[0];
  if (db === undefined) throw new UsageError('serve needs a database path: leasehold-milvus serve ./app.db');
  const engine = engineOption(values['engine'] as string | undefined);
  const port = values['port'] === undefined ? undefined : Number(values['port']);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new UsageError(`--port must be an integer from 1 to 65535, got ${JSON.stringify(values['port'])}`);
  const installation = await findMilvusLite({ engine });
  if (port !== undefined && installation.engine !== 'python') {
    throw new UsageError(`--port applies to the python engine (milvus-lite ≥ 3) only; the native engine (milvus-lite ${installation.version}) serves on a private unix socket: leave --port out, or add --engine python`);
  }
  const pool = createMilvusLitePool({ installation, ...(port === undefined ? {} : { port }), ...(values['share'] ? { share: true } : {}) });
  const lease = await pool.acquire(resolve(db));
  const server = lease.resource;
  const info = { uri: server.uri, pid: server.pid, dbPath: server.dbPath, engine: server.engine, version: installation.version };
  process.stdout.write(values['json'] ? `${JSON.stringify(info)}\n` : `${server.uri}\n`);
  if (!values['json']) process.stderr.write(`serving ${server.dbPath} (milvus-lite ${installation.version}, pid ${String(server.pid)}); Ctrl-C stops it\n`);
  // Servers do not hold Node's event loop open (see unrefProcess); serving is this command's job.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const code = await new Promise<number>((done) => {
    const stop = (): void => done(kExit.ok);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    lease.signal.addEventListener('abort', () => {
      const reason = lease.signal.reason as Error;
      const cause: Error = reason.cause instanceof ServerExitedError || reason.cause instanceof SharedServerLostError ? reason.cause : reason;
      // A shared server stopped on purpose (`leasehold-milvus stop`) ends this serve as Ctrl-C does.
      if (cause instanceof SharedServerLostError && cause.stopRequested) {
        process.stderr.write(`the shared server of ${cause.dbPath} was ${cause.reason}\n`);
        return done(kExit.ok);
      }
      process.stderr.write(`leasehold-milvus: ${cause.message.split('\n')[0]}\n`);
      done(kExit.failed);
    });
  });
  clearInterval(keepAlive);
  await lease.release();
  await pool.close();
  return code;
}

async function dump(args: string[]): Promise<number> {
  const { values } = parse(args, {
    'db-file': { type: 'string', short: 'd' },
    collection: { type: 'string', short: 'c' },
    path: { type: 'string', short: 'p' },
    engine: { type: 'string' },
  });
  if (values['help']) return help('dump');
  const db = values['db-file'] as string | undefined;
  const collection = values['collection'] as string | undefined;
  const outDir = values['path'] as string | undefined;
  if (!db || !collection || !outDir) throw new UsageError('dump needs -d <db>, -c <collection> and -p <dir>');
  await checkSourceDatabase(resolve(db), 'dump');
  const parent = dirname(resolve(outDir));
  if (!(await stat(parent).catch(() => undefined))?.isDirectory()) throw new UsageError(`the parent of the dump path does not exist: ${parent}`);
  if ((await stat(resolve(outDir)).catch(() => undefined))?.isDirectory() === false) throw new UsageError(`the dump path ${resolve(outDir)} is a file, not a directory; pass a directory (it is created if missing)`);
  const installation = await findMilvusLite({ engine: engineOption(values['engine'] as string | undefined) });
  await using pool: LeasePool<MilvusLiteServer> = createMilvusLitePool({ installation });
  await using lease = await pool.acquire(resolve(db));
  const tty = process.stderr.isTTY === true;
  const { dumpCollection } = await import('./dump.js');
  const result = await dumpCollection(lease, {
    collection,
    outDir: resolve(outDir),
    onProgress: (done, total) => {
      if (!tty) return;
      const width = 30;
      const filled = total > 0 ? Math.round((done / total) * width) : width;
      process.stderr.write(`\rDump ${collection} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`);
    },
  });
  if (tty) process.stderr.write('\n');
  process.stdout.write(`Dumped ${rows(result.rows)} of ${collection} to ${result.files.join(', ') || '(no rows, no files)'}\n`);
  return kExit.ok;
}

async function doctor(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values['help']) return help('doctor');
  let failures = 0;
  const ok = (line: string): void => void process.stdout.write(`  ok    ${line}\n`);
  const bad = (line: string, fix: string): void => {
    failures++;
    process.stdout.write(`  FAIL  ${line}\n        fix: ${fix}\n`);
  };
  const report = (check: Check): void => (check.ok ? ok(check.line) : bad(check.line, check.fix ?? ''));
  process.stdout.write(`node ${process.version} on ${process.platform}-${process.arch}; cache ${cacheDir()}\n\nplatform:\n`);
  platformChecks().forEach(report);
  process.stdout.write('\nmilvus-lite:\n');
  let found = 0;
  for (const engine of ['native', 'python'] as const) {
    try {
      const inst = await findMilvusLite({ engine });
      found++;
      ok(`${engine} engine: milvus-lite ${inst.version} from ${inst.source} (${inst.binary})`);
      (await installationChecks(inst)).forEach(report);
    } catch (error) {
      const message = (error as Error).message;
      process.stdout.write(`  --    ${engine} engine: not found\n${message.split('\n').slice(1).map((l) => `        ${l}`).join('\n')}\n`);
    }
  }
  if (found === 0) bad('no milvus-lite engine found', `leasehold-milvus install (installs the native engine into ${nativeInstallDir(DEFAULT_MILVUS_LITE_VERSION)})`);
  process.stdout.write('\nenvironment:\n');
  const tmp = tmpdir();
  try {
    const { dir, socketPath } = await makeSocketDir('doctor.db.sock');
    const mode = (await stat(dir)).mode & 0o777;
    if (mode === 0o700) ok(`socket directory ${dir} is private (0700); socket path ${Buffer.byteLength(socketPath)} bytes ≤ 107`);
    else bad(`socket directory ${dir} has mode ${mode.toString(8)}, not 0700`, `check the umask and the permissions of ${tmp}`);
    await removeSocketDir(dir);
  } catch (error) {
    bad(`cannot create a socket directory under ${tmp}: ${(error as Error).message}`, `make ${tmp} writable, or set TMPDIR to a short writable directory`);
  }
  if (found > 0) {
    const scratch = await makeOwnedTempDir('leasehold-doctor-');
    try {
      const installation = await findMilvusLite();
      const pool = createMilvusLitePool({ installation });
      const started = performance.now();
      const lease = await pool.acquire(`${scratch}/doctor.db`);
      ok(`started a ${installation.engine} server on a scratch database in ${(performance.now() - started).toFixed(0)} ms (${lease.resource.uri})`);
      await lease.release();
      await pool.close();
    } catch (error) {
      // The whole message: the server's output tail (the loader's own line for a missing library) and any failed hash.
      bad(`a real server did not start: ${(error as Error).message.split('\n').join('\n        ')}`, 'run `leasehold-milvus install` (it repairs what fails its hashes)');
    } finally {
      await removeSocketDir(scratch);
    }
  }
  process.stdout.write(failures === 0 ? '\nall checks passed\n' : `\n${failures} check(s) failed\n`);
  return found === 0 ? kExit.notFound : failures > 0 ? kExit.failed : kExit.ok;
}

async function migrate(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      collection: { type: 'string', multiple: true },
      'batch-size': { type: 'string' },
      replace: { type: 'boolean' },
      json: { type: 'boolean' },
      'source-engine': { type: 'string' },
      'target-engine': { type: 'string' },
    },
    2,
  );
  if (values['help']) return help('migrate');
  const [source, target] = positionals;
  if (source === undefined || target === undefined) throw new UsageError('migrate needs a source and a target: leasehold-milvus migrate ./app.db http://milvus:19530');
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1)) throw new UsageError(`--batch-size must be an integer ≥ 1, got ${JSON.stringify(values['batch-size'])}`);
  const side = (flag: string): MilvusLitePoolOptions => {
    const engine = engineOption(values[flag] as string | undefined, flag);
    return engine === 'auto' ? {} : { engine };
  };
  const local = (where: string): string => (isRemoteUri(where) ? where : resolve(where));
  const collections = values['collection'] as unknown as string[] | undefined;
  // The progress bar's module loads only where it draws: a terminal, no --json.
  const { SingleBar, Presets } = process.stderr.isTTY && !values['json'] ? await import('cli-progress') : { SingleBar: undefined, Presets: undefined };
  const bar = SingleBar !== undefined ? new SingleBar({ format: 'Migrate {collection} [{bar}] {value}/{total} rows, {rate} rows/s', hideCursor: true, stream: process.stderr }, Presets.shades_classic) : undefined;
  const started = performance.now();
  let summary: MigrateSummary;
  try {
    summary = await migrateDatabase(local(source), local(target), {
      ...(collections ? { collections } : {}),
      ...(batchSize === undefined ? {} : { batchSize }),
      replace: values['replace'] === true,
      sourceServer: side('source-engine'),
      targetServer: side('target-engine'),
      onProgress: ({ collection, rows, totalRows }) => {
        const rate = Math.round(rows / ((performance.now() - started) / 1000));
        if (bar && !bar.isActive) bar.start(totalRows, 0, { collection, rate });
        bar?.update(rows, { collection, rate });
      },
    });
  } catch (error) {
    bar?.stop();
    if (!(error instanceof MigrationCountMismatchError)) throw error;
    process.stdout.write(values['json'] ? `${JSON.stringify({ ...error.summary, error: error.message })}\n` : '');
    process.stderr.write(`leasehold-milvus: ${error.message}\n`);
    return kExit.countMismatch;
  }
  bar?.stop();
  if (values['json']) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return kExit.ok;
  }
  for (const c of summary.collections) {
    process.stdout.write(
      `${c.name}: ${rows(c.targetRows)}${c.partitions.length ? `, partitions ${c.partitions.join(', ')}` : ''}${c.indexes.length ? `, indexes ${c.indexes.join(', ')}` : ''}${c.replaced ? ' (replaced)' : ''}${c.primaryKeysRegenerated ? '; auto_id primary keys were generated anew by the target' : ''}${c.duplicateKeyRows ? `; ${rows(c.duplicateKeyRows)} of the source repeated another row's primary key, and ${c.duplicateKeyRows === 1 ? 'was' : 'were'} copied once per key` : ''}\n`,
    );
  }
  process.stdout.write(`Migrated ${rows(summary.rows)} in ${summary.collections.length} collection(s) to ${summary.target} in ${(summary.elapsedMs / 1000).toFixed(1)} s (${Math.round(summary.rowsPerSecond)} rows/s); counts verified\n`);
  return kExit.ok;
}

async function install(args: string[]): Promise<number> {
  const { values } = parse(args, { version: { type: 'string' }, force: { type: 'boolean' } });
  if (values['help']) return help('install');
  const version = (values['version'] as string | undefined) ?? DEFAULT_MILVUS_LITE_VERSION;
  const force = values['force'] === true;
  if (Number.parseInt(version, 10) >= 3) {
    const venv = await installMilvusLite({ version, force, log: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(`milvus-lite ${version} installed in ${venv}\n`);
    return kExit.ok;
  }
  const reporter = installReporter(process.stderr, '');
  let result: NativeInstallResult;
  try {
    result = await installNative({ version, env: process.env, force, log: reporter.log, onProgress: reporter.onProgress });
  } finally {
    reporter.stop();
  }
  const { dir, manifest, outcome, problems } = result;
  const what = `milvus-lite ${version} (${manifest.wheel}, sha256 ${manifest.sha256})`;
  if (outcome === 'ok') process.stdout.write(`${what} in ${dir}: all ${manifest.files.length} files match the wheel's RECORD; nothing to do (--force reinstalls)\n`);
  else if (outcome === 'repaired') process.stdout.write(`${what} reinstalled in ${dir}, because:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  else process.stdout.write(`${what} ${outcome} in ${dir}\n`);
  return kExit.ok;
}

async function status(args: string[]): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } });
  if (values['help']) return help('status');
  const servers = await listSharedServers();
  if (values['json']) {
    process.stdout.write(`${JSON.stringify(servers)}\n`);
    return kExit.ok;
  }
  if (servers.length === 0) process.stdout.write('no shared servers\n');
  for (const s of servers) {
    const idle = s.idleMs === null ? 'in use' : `idle ${(s.idleMs / 1000).toFixed(1)} s of ${s.idleTimeoutMs === null ? '∞' : `${(s.idleTimeoutMs / 1000).toFixed(1)} s`}`;
    process.stdout.write(`${s.dbPath}\n  ${s.state}, supervisor pid ${s.supervisorPid}, server pid ${s.serverPid}, ${s.uri}\n  attached: ${s.clients.length === 0 ? 'none' : s.clients.map((pid) => `pid ${pid}`).join(', ')}; ${idle}\n`);
  }
  return kExit.ok;
}

async function stop(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {}, 1);
  if (values['help']) return help('stop');
  const db = positionals[0];
  if (db === undefined) throw new UsageError('stop needs a database path: leasehold-milvus stop ./app.db');
  if (!(await stopSharedServer(resolve(db)))) {
    process.stderr.write(`leasehold-milvus: no shared server serves ${resolve(db)}\n`);
    return kExit.failed;
  }
  process.stdout.write(`stopped the shared server of ${resolve(db)}\n`);
  return kExit.ok;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'dump':
      return dump(rest);
    case 'doctor':
      return doctor(rest);
    case 'install':
      return install(rest);
    case 'status':
      return status(rest);
    case 'stop':
      return stop(rest);
    case 'migrate':
      return migrate(rest);
    case undefined:
      // No command is a usage error (exit 2), with the help on stderr, as git and npm do.
      process.stderr.write(`${helpText('main')}\n`);
      return kExit.usage;
    case 'help':
    case '--help':
    case '-h':
      return help(rest[0] ?? 'main');
    case '--version':
    case '-V':
      process.stdout.write(`${packageVersion()}\n`);
      return kExit.ok;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; run leasehold-milvus --help`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // One readable line on stderr; the server output of a failed start follows on its own lines.
    process.stderr.write(`leasehold-milvus: ${message}\n`);
    const code =
      error instanceof UsageError || error instanceof TypeError || error instanceof RangeError
        ? kExit.usage
        : error instanceof MilvusLiteNotFoundError
          ? kExit.notFound
          : error instanceof MigrateInputError || error instanceof InvalidDatabaseError || (error as Error).cause instanceof InvalidDatabaseError
            ? kExit.usage
            : error instanceof KeyLockedError || (error as Error).cause instanceof KeyLockedError
            ? kExit.inUse
            : error instanceof InvalidKeyError
              ? kExit.usage
              : kExit.failed;
    process.exit(code);
  },
);
