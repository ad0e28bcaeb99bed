// The CLI's arguments: exit codes, help texts and option parsing, shared by the commands of main.ts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { EngineName } from '../engine.js';
import { nativeInstallDir } from '../install/config.js';
import { cacheVenv, DEFAULT_MILVUS_LITE_VERSION } from '../install/cache-dir.js';

/** Exit codes: each means one thing, so scripts can branch on them. */
export const kExit = { ok: 0, failed: 1, usage: 2, notFound: 3, inUse: 4, countMismatch: 5 } as const;

export class UsageError extends Error {}

export const kHelp: Record<string, string> = {
  main: `leasehold-milvus: run milvus-lite servers from the shell

Usage: leasehold-milvus <command> [options]

Commands:
  serve <db>                         start a server for <db>, print its URI, stop on Ctrl-C
  dump -d <db> -c <collection> -p <dir>   export a collection as bulk-insert JSON
  doctor                             show what was found where, and check the environment
  install [--version X] [--force]    install (or repair) milvus-lite in leasehold's cache
  status [--json]                    list this user's shared servers (serve --share, share: true)
  stop <db>                          stop the shared server of <db> for every process using it
  migrate <source> <target>          copy collections between a local database and a Milvus URI

Run 'leasehold-milvus <command> --help' for a command's options; --version prints leasehold's version.
Exit codes: 0 ok, 1 failed, 2 bad usage, 3 milvus-lite not found, 4 database in use,
5 migrate: row counts differ in the target after the copy.`,
  serve: `Usage: leasehold-milvus serve <db> [--json] [--engine auto|native|python] [--port N] [--share]

Starts a milvus-lite server for <db> and prints the URI to connect to (with --json, one JSON line:
uri, pid, dbPath, engine, version). Runs until SIGINT or SIGTERM, then stops cleanly.
--port (python engine only) serves on 127.0.0.1:N instead of a private unix socket; a port in use is refused.
--share (or LEASEHOLD_SHARE=1) attaches to the database's shared server, started if needed, which
other processes with share: true use too (see leasehold-milvus status).`,
  status: `Usage: leasehold-milvus status [--json]

Lists this user's shared servers: database, supervisor and server pids, attached processes, idle time.`,
  stop: `Usage: leasehold-milvus stop <db>

Stops the shared server of <db> for everyone: every attached process's leases are revoked. Waits
until it has ended (a server already stopping by itself too).
Exit codes: 0 stopped; 1 no shared server serves <db> (\`stop … || true\` where that is fine).`,
  dump: `Usage: leasehold-milvus dump -d <db> -c <collection> -p <dir> [--engine auto|native|python]

Writes <dir>/<collection>/1.json, 2.json, … in Milvus bulk-insert format ({"rows": [...]}).
Existing files are never overwritten. Shows a progress bar when stderr is a terminal.
  -d, --db-file      the database
  -c, --collection   the collection to export
  -p, --path         the output directory (its parent must exist)`,
  doctor: `Usage: leasehold-milvus doctor

Shows the platform and C library, the wheel for this platform, which milvus-lite engines were found
and where, checks the native install's files against their hashes, the socket directory and its
permissions, and starts a real server on a scratch database. Prints the fix for each failure.`,
  migrate: `Usage: leasehold-milvus migrate <source> <target> [--collection NAME]... [--batch-size N] [--replace] [--json]

Copies collections (schema, indexes, partitions, rows) from <source> to <target>; each is a local
database path (either milvus-lite engine) or a Milvus URI (http://host:19530, host:port). The
source is only read. Row counts are checked in the target afterwards (exit code 5 if they differ).
  --collection NAME      copy only this collection (repeatable); default every collection
  --batch-size N         rows per read and insert (default 1000)
  --replace              drop a same-name collection in the target first (default: refuse)
  --json                 print the summary as one JSON line
  --source-engine E, --target-engine E   auto|native|python for a local side
Auto-generated primary keys (auto_id) are generated anew by the target: ids change.`,
  install: `Usage: leasehold-milvus install [--version X] [--force]

Installs milvus-lite X (default ${DEFAULT_MILVUS_LITE_VERSION}) into leasehold's cache, where findMilvusLite() looks.
2.4/2.5 (the native engine): from the wheel, no Python: LEASEHOLD_MILVUS_LITE_WHEEL=<file.whl>, else the
index PIP_INDEX_URL (default https://pypi.org/simple; HTTPS_PROXY/NO_PROXY honoured), its sha256 and
every file checked, into ${nativeInstallDir('<X>')}. An install already there is checked against
its hashes: whatever is wrong is reinstalled into a new directory renamed into place.
--force reinstalls in any case. 3.x (the python engine): a venv ${cacheVenv('<X>')} with pip.`,
};

export function engineOption(value: string | undefined, flag = 'engine'): 'auto' | EngineName {
  const engine = value ?? 'auto';
  if (engine !== 'auto' && engine !== 'native' && engine !== 'python') throw new UsageError(`--${flag} must be auto, native or python, got ${JSON.stringify(engine)}`);
  return engine;
}

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals = 0): Parsed {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals > 0, strict: true });
    if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`);
    return parsed as Parsed;
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
}

export function help(topic: string): number {
  process.stdout.write(`${helpText(topic)}\n`);
  return kExit.ok;
}

/** The help of `topic` (a command), or the main help. */
export function helpText(topic: string): string {
  return kHelp[topic] ?? kHelp['main']!;
}
