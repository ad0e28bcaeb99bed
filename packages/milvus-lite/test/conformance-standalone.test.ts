import { conformanceSuite } from './conformance/suite.js';
import { milvusStandalonePython } from './support/installations.js';

conformanceSuite({ target: 'standalone', python: milvusStandalonePython() });
