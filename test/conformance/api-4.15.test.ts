import { apiConformanceSuite } from '../real-server/api-conformance-suite.js';

await apiConformanceSuite('4.15.2', 'sqlite');
