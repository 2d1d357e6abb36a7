import { storeLinksSuite } from '../real-server/store-links-suite.js';

await storeLinksSuite('4.15.2');
