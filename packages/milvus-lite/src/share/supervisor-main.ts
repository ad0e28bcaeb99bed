// The entry point of a shared database's supervisor process (spawned detached by a client).
import { loadExeca } from '../install/load-execa.js';
import { kSupervisorExit, runSupervisor, type SupervisorConfig } from './supervisor.js';

// A supervisor exists to spawn a server, so execa loads at once, not lazily as in a client (its
// lazy import failed in a supervisor respawned after a SIGKILL: 'is-plain-obj' looked up beside
// the symlinked node_modules/execa, not its real path; the cause is not pinned down, see the note).
const execaLoaded = loadExeca();
const config = JSON.parse(process.argv[2] ?? '{}') as SupervisorConfig;
execaLoaded
  .then(() => runSupervisor(config))
  .catch((error: unknown) => {
    process.stderr.write(`leasehold supervisor crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(kSupervisorExit.crashed);
  });
