import { installationOf } from './support/installations.js';
import { isolationSuite } from './support/isolation-suite.js';

isolationSuite('python', installationOf('python'));
