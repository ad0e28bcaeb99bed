import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';

// What grpc-js prints when a server answers pings with GOAWAY ENHANCE_YOUR_CALM "too_many_pings":
// "Connection to … rejected by server because of excess pings. Increasing ping interval to …".
const kNoise = /excess pings|GOAWAY|too_many_pings/i;
const kFixture = fileURLToPath(new URL('fixtures/idle-client.mjs', import.meta.url));
// Both engines' servers use grpc-core's defaults: with no call in flight a ping earlier than
// min_recv_ping_interval_without_data (5 min) is a strike, and the third strike past
// max_ping_strikes (2) gets GOAWAY. So the SDK's 10 s keepalive is answered with GOAWAY at the
// fourth ping, ~40 s into the idle (seen at 39-41 s); 55 s idles past it with margin.
const kIdleMs = 55_000;

describe.concurrent.each(['native', 'python'] as const)('an idle client of a local %s server', (engine) => {
  const installation = installationOf(engine);
  const freshDir = freshDirs(`lh-idle-${engine}-`);

  it.skipIf(installation === undefined)(
    'stays quiet past the point where the SDK\'s own keepalive draws "excess pings", and still answers',
    async () => {
      const run = (name: string, mode: string) =>
        execa('node', [kFixture, join(freshDir(), name), JSON.stringify(installation), String(kIdleMs), mode], { reject: false, stdin: 'ignore' });
      // Side by side: openMilvus's settings, and the SDK's own (the control, which must be noisy).
      const [quiet, noisy] = await Promise.all([run('quiet.db', 'default'), run('noisy.db', 'sdk-keepalive')]);
      expect(quiet.exitCode, quiet.stderr).toBe(0);
      // The last line is the fixture's; the SDK's logger may print before it.
      expect(quiet.stdout.trim().split('\n').at(-1), quiet.stdout).toBe(JSON.stringify({ codes: ['Success', 'Success'] }));
      expect(quiet.stderr.split('\n').filter((line) => kNoise.test(line))).toEqual([]);
      // The control proves the idle is long enough and the server does complain.
      expect(noisy.exitCode, noisy.stderr).toBe(0);
      expect(noisy.stderr).toMatch(/rejected by server because of excess pings/);
    },
    180_000,
  );
});
