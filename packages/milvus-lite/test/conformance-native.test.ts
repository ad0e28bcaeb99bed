import { conformanceSuite } from './conformance/suite.js';
import { installationOf } from './support/installations.js';

conformanceSuite({ target: 'native', installation: installationOf('native') });
