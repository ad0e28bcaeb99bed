import { conformanceSuite } from './conformance/suite.js';
import { installationOf } from './support/installations.js';

conformanceSuite({ target: 'python', installation: installationOf('python') });
