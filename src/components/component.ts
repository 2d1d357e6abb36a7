import type { Backend, LoadedLiveState } from '../backends/backend.js';

/**
 * Something beside the server that fedctl keeps (algorithm stores,
 * Keycloak): a backend that reaches it too, and how to add its state to a
 * live state the backend read already.
 */
export interface Component {
  readonly backend: Backend;
  addTo(loaded: LoadedLiveState): Promise<LoadedLiveState>;
}
