import { conformanceSuite } from '../real-server/conformance-suite.js';

await conformanceSuite('4.15.2');
