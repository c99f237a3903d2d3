import type { KubeObject } from '../src/core/audit-event.ts';
import type { Link, ObjectRef } from '../src/core/model.ts';

export type { KubeObject };

/**
 * Finds relations of one object version. Pure: `obj` is the (redacted) object, or, for a
 * `pods/binding` create, the Binding request; `ref` is the object the event is about.
 * `Link.role` says what the target is to `ref`: its 'parent' or its 'child'.
 */
export type Linker = (obj: KubeObject, ref: ObjectRef) => Link[];
