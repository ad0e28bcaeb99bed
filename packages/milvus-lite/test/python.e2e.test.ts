import { engineSuite } from './support/engine-suite.js';
import { installationOf } from './support/installations.js';

engineSuite('python', installationOf('python'));
