import { apiConformanceSuite } from '../real-server/api-conformance-suite.js';
import { HQ_RELEASE } from '../real-server/server-environment.js';

await apiConformanceSuite(HQ_RELEASE, 'postgres');
