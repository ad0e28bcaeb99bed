// The entry point of a shared database's supervisor process (spawned detached by a client).
import { kSupervisorExit, runSupervisor, type SupervisorConfig } from './supervisor.js';

const config = JSON.parse(process.argv[2] ?? '{}') as SupervisorConfig;
runSupervisor(config).catch((error: unknown) => {
  process.stderr.write(`leasehold supervisor crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(kSupervisorExit.crashed);
});
