import { storeLinksSuite } from '../real-server/store-links-suite.js';
import { HQ_RELEASE } from '../real-server/server-environment.js';

await storeLinksSuite(HQ_RELEASE);
