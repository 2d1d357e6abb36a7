/**
 * js-yaml 4's loader (npm alias js-yaml-4), the part fedctl uses. Version 5
 * (`js-yaml`) builds values through an event list and takes twice as long;
 * fedctl reads configs with 4 and asks 5's events for positions.
 */
declare module 'js-yaml-4' {
  export class Type {
    constructor(tag: string, options: {
      kind: 'scalar';
      resolve: (data: string | null) => boolean;
      construct: (data: string | null) => unknown;
    });
  }

  export class Schema {
    constructor(definition: { implicit: readonly Type[]; explicit: readonly Type[] });
  }

  /** The loader's state at a node's end, as a listener sees it. */
  export interface NodeState {
    readonly kind: 'scalar' | 'sequence' | 'mapping' | null;
    readonly result: unknown;
    /** The node's tag: `!` for the non-specific tag; for other explicit tags the resolved one. */
    readonly tag: string | null;
    readonly anchor: string | null;
    /** From a `%YAML` directive. */
    readonly version: number | null;
    /** Where the reader is: just after the node. */
    readonly position: number;
  }

  export function load(text: string, options: {
    filename?: string;
    schema?: Schema;
    listener?: (event: 'open' | 'close', state: NodeState) => void;
  }): unknown;
}
