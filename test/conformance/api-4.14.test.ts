import { apiConformanceSuite } from '../real-server/api-conformance-suite.js';

await apiConformanceSuite('4.14.0', 'postgres');
