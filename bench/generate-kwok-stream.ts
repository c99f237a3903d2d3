// Generates a KWOK-scale audit log (JSON lines, audit.k8s.io/v1 Events at RequestResponse level, as
// kube-apiserver 1.33 writes with --audit-log-format=json) by simulating the controllers of a
// scale test in simulated time. Deterministic (seeded), streamed to the file (memory holds only the
// simulation state, never the output).
//
// Scenario (defaults = full size):
//  1. kwokctl creates 12,100 fake nodes; kwok patches each node's status Ready, creates its Lease in
//     kube-node-lease, renews the Lease every --lease-renew seconds (excluded by kubetrail by default,
//     but present in the bytes as in a real log) and heartbeats node status every --node-heartbeat s.
//  2. kubectl creates --deployments Deployments (100,000 pods in total); the deployment-controller
//     creates one ReplicaSet each; the replicaset-controller creates pods with generateName at
//     --pod-rate pods/s; kube-scheduler binds each pod (pods/binding); kwok patches pods/status to
//     Running; replicaset and deployment status updates follow (coalesced per controller sync).
//  3. After --hold seconds, kubectl scales every Deployment to 0 (deployments/scale); the
//     deployment-controller updates the ReplicaSet; the replicaset-controller deletes the pods
//     (graceful, 30 s) and kwok deletes them for good (gracePeriodSeconds 0).
//  4. kubectl deletes the Deployments; the garbage collector deletes their ReplicaSets.
//
//   node bench/generate-kwok-stream.ts [--small] [--nodes N] [--pods N] [--deployments N] [--out FILE]
// Prints one JSON line with the file size and the event counts on stdout.
import { closeSync, openSync, writeSync, statSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Rng,
  actors,
  auditEvent,
  deploymentObject,
  leaseObject,
  nodeHeartbeatPatch,
  nodeObject,
  podObject,
  podRequest,
  podRunningPatch,
  replicaSetObject,
  type Actor,
  type AuditObjectRef,
  type DeploymentState,
  type NodeState,
  type PodState,
} from './kwok-objects.ts';

export interface StreamOptions {
  nodes: number;
  pods: number;
  deployments: number;
  /** Unix seconds of the first event. */
  startSec: number;
  seed: number;
  /** pods created (and deleted) per second by the replicaset-controller, all ReplicaSets together */
  podRate: number;
  /** nodes created per second by kwokctl */
  nodeRate: number;
  leaseRenewSec: number;
  nodeHeartbeatSec: number;
  /** seconds between the last pod Running and the scale-down */
  holdSec: number;
  namespaces: number;
}

export const fullSize: StreamOptions = {
  nodes: 12_100,
  pods: 100_000,
  deployments: 100,
  startSec: Date.UTC(2026, 0, 1, 0, 20, 0) / 1000, // the run crosses the 00:30 window boundary
  seed: 1,
  podRate: 250,
  nodeRate: 200,
  leaseRenewSec: 10, // kwok renews node leases like the kubelet: 1/4 of the 40 s lease duration
  nodeHeartbeatSec: 300, // the kubelet reports unchanged node status every 5 min when leases are on
  holdSec: 60,
  namespaces: 10,
};

export const smallSize: StreamOptions = { ...fullSize, nodes: 1_210, pods: 10_000, deployments: 10 };

export interface StreamStats {
  file: string;
  bytes: number;
  events: number;
  byResource: Record<string, number>;
  firstTimestamp: string;
  lastTimestamp: string;
  simulatedSeconds: number;
  generateSeconds: number;
}

/**
 * The least delay of a reaction after the write it reacts to (µs): a controller learns of a write
 * only once it completed, so its own request is received after that — above the simulated API
 * latency (≤ 12.8 ms, `write`). Shorter, a pod's binding could be stamped before its create.
 */
const REACTION_US = 13_000;

// Action kinds of the discrete-event simulation.
const NODE_CREATE = 0;
const NODE_STATUS = 1;
const LEASE_CREATE = 2;
const LEASE_RENEW = 3;
const NS_CREATE = 4;
const DEPLOY_CREATE = 5;
const RS_CREATE = 6;
const POD_CREATE_TICK = 7;
const POD_BIND = 8;
const POD_RUNNING = 9;
const RS_STATUS = 10;
const DEPLOY_STATUS = 11;
const SCALE_DOWN = 12;
const POD_DELETE_TICK = 13;
const POD_FINAL_DELETE = 14;
const DEPLOY_DELETE = 15;
const RS_GC_DELETE = 16;
const RS_SCALE = 17;

interface Action {
  t: number; // µs
  seq: number;
  kind: number;
  ref: any;
}

/** Binary min-heap on (t, seq): the simulation pops actions in time order, ties in insertion order. */
class ActionQueue {
  private heap: Action[] = [];
  private seq = 0;
  get size(): number {
    return this.heap.length;
  }
  push(t: number, kind: number, ref: unknown): void {
    const a: Action = { t: Math.round(t), seq: this.seq++, kind, ref };
    const h = this.heap;
    let i = h.push(a) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, a)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = a;
  }
  pop(): Action | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && less(h[r]!, h[l]!) ? r : l;
        if (less(last, h[c]!)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
function less(a: Action, b: Action): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

/** Buffered synchronous writer: the output is never held in memory beyond one chunk. */
class LineWriter {
  private fd: number;
  private parts: string[] = [];
  private buffered = 0;
  bytes = 0;
  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
  }
  line(s: string): void {
    this.parts.push(s, '\n');
    this.buffered += s.length + 1;
    if (this.buffered > 4 << 20) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    this.bytes += buf.length;
    this.parts = [];
    this.buffered = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export interface SimulatedEvent {
  event: Record<string, unknown>;
  /** `resource` or `resource/subresource` */
  resource: string;
}

/** Calls `emit` with every audit event of the scenario, in stageTimestamp order. */
export function simulate(opts: StreamOptions, emit: (event: Record<string, unknown>, resource: string) => void): void {
  for (const e of simulateEvents(opts)) emit(e.event, e.resource);
}

/**
 * Simulates the scenario and yields its audit events lazily, in stageTimestamp order.
 * Exported so other benchmarks (the webhook load generator) take the same events without a file.
 */
export function* simulateEvents(opts: StreamOptions): Generator<SimulatedEvent> {
  const out: SimulatedEvent[] = [];
  const rng = new Rng(opts.seed);
  const q = new ActionQueue();
  const t0 = opts.startSec * 1e6;
  let rv = 1000; // etcd revision: every write bumps it
  let workloadDone = false;
  let stopAt = Infinity; // recurring heartbeats stop here (set once the workload is finished)

  const write = (
    t: number,
    actor: Actor,
    verb: string,
    requestURI: string,
    objectRef: AuditObjectRef,
    code: number,
    requestObject: unknown,
    responseObject: unknown,
    extraAnnotations?: Record<string, string>,
  ) => {
    const latency = 800 + rng.int(12_000); // 0.8–12.8 ms in the API server
    out.push({
      event: auditEvent({
        auditID: rng.uuid(),
        requestURI,
        verb,
        actor,
        objectRef,
        code,
        requestObject,
        responseObject,
        receivedUs: t - latency,
        completedUs: t,
        extraAnnotations,
      }),
      resource: objectRef.subresource ? `${objectRef.resource}/${objectRef.subresource}` : objectRef.resource,
    });
  };

  // ---- nodes ----
  const nodes: NodeState[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const name = `kwok-node-${i}`;
    const n: NodeState = {
      index: i,
      name,
      uid: '',
      createdUs: 0,
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      rv: 0,
      heartbeatUs: 0,
      leaseUid: '',
      leaseRv: 0,
      leaseCreatedUs: 0,
    };
    nodes.push(n);
    q.push(t0 + (i / opts.nodeRate) * 1e6 + rng.int(1e6 / opts.nodeRate), NODE_CREATE, n);
  }
  const nodesReadyUs = t0 + (opts.nodes / opts.nodeRate) * 1e6 + 10e6;

  // ---- workload ----
  const deployments: DeploymentState[] = [];
  const perDeployment = Math.floor(opts.pods / opts.deployments);
  for (let j = 0; j < opts.namespaces; j++) q.push(nodesReadyUs - 5e6 + j * 1000, NS_CREATE, `kwok-scale-${j}`);
  for (let k = 0; k < opts.deployments; k++) {
    const replicas = perDeployment + (k < opts.pods - perDeployment * opts.deployments ? 1 : 0);
    const d: DeploymentState = {
      namespace: `kwok-scale-${k % opts.namespaces}`,
      name: `web-${k}`,
      uid: '',
      replicas,
      generation: 1,
      rv: 0,
      createdUs: 0,
      rsName: '',
      rsUid: '',
      rsRv: 0,
      rsGeneration: 1,
      rsReplicas: replicas,
      rsCreatedUs: 0,
      hash: rng.suffix(10),
      podsExisting: 0,
      podsRunning: 0,
      podsTerminating: 0,
    };
    d.rsName = `${d.name}-${d.hash}`;
    deployments.push(d);
    q.push(nodesReadyUs + k * 100_000 + rng.int(50_000), DEPLOY_CREATE, d);
  }

  const rsDirty = new Set<DeploymentState>();
  const deployDirty = new Set<DeploymentState>();
  const toCreate: DeploymentState[] = []; // ReplicaSets still creating pods, round-robin
  const createdCount = new Map<DeploymentState, number>();
  const livePods = new Map<DeploymentState, PodState[]>();
  const toDelete: DeploymentState[] = [];
  let createCursor = 0;
  let deleteCursor = 0;
  let createTicking = false;
  let deleteTicking = false;
  let runningTotal = 0;
  let finalDeletedTotal = 0;
  let deploymentsDeleted = 0;
  const podTick = () => rng.expo(1e6 / opts.podRate);
  const podNames = new Set<string>();
  /** generateName: the API server draws again when the name is taken (RetryGenerateName), so no two pods share one */
  const podName = (d: DeploymentState): string => {
    let name: string;
    do name = `${d.rsName}-${rng.suffix(5)}`;
    while (podNames.has(`${d.namespace}/${name}`));
    podNames.add(`${d.namespace}/${name}`);
    return name;
  };

  const markRs = (d: DeploymentState, t: number) => {
    if (rsDirty.has(d)) return;
    rsDirty.add(d);
    q.push(t + 1e6 + rng.int(500_000), RS_STATUS, d); // the controller's sync coalesces changes
  };
  const markDeploy = (d: DeploymentState, t: number) => {
    if (deployDirty.has(d)) return;
    deployDirty.add(d);
    // the deployment controller syncs as soon as its ReplicaSet changed (its work queue has no delay)
    q.push(t + REACTION_US + rng.int(40_000), DEPLOY_STATUS, d);
  };

  let ev: Action | undefined;
  while ((ev = q.pop())) {
    const t = ev.t;
    switch (ev.kind) {
      case NODE_CREATE: {
        const n = ev.ref as NodeState;
        n.uid = rng.uuid();
        n.createdUs = t;
        n.rv = ++rv;
        const obj = nodeObject(n);
        write(
          t,
          actors.kwokctl,
          'create',
          '/api/v1/nodes?fieldManager=kwokctl',
          { resource: 'nodes', name: n.name, apiVersion: 'v1' },
          201,
          { ...obj, metadata: { ...(obj.metadata as object), uid: undefined, resourceVersion: undefined, creationTimestamp: null, managedFields: undefined } },
          obj,
        );
        q.push(t + 50_000 + rng.int(250_000), NODE_STATUS, n);
        q.push(t + 100_000 + rng.int(900_000), LEASE_CREATE, n);
        break;
      }
      case NODE_STATUS: {
        const n = ev.ref as NodeState;
        if (t >= stopAt) break; // the recording has ended
        n.heartbeatUs = t;
        n.rv = ++rv;
        write(
          t,
          actors.kwok,
          'patch',
          `/api/v1/nodes/${n.name}/status`,
          { resource: 'nodes', name: n.name, apiVersion: 'v1', subresource: 'status' },
          200,
          nodeHeartbeatPatch(n),
          nodeObject(n),
        );
        const next = t + opts.nodeHeartbeatSec * 1e6 * (0.9 + 0.2 * rng.float());
        if (next < stopAt) q.push(next, NODE_STATUS, n);
        break;
      }
      case LEASE_CREATE:
      case LEASE_RENEW: {
        const n = ev.ref as NodeState;
        const create = ev.kind === LEASE_CREATE;
        if (t >= stopAt) break;
        if (create) {
          n.leaseUid = rng.uuid();
          n.leaseCreatedUs = t;
        }
        const before = leaseObject(n, t);
        n.leaseRv = ++rv;
        const after = leaseObject(n, t);
        if (create) {
          write(
            t,
            actors.kwok,
            'create',
            '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases',
            { resource: 'leases', namespace: 'kube-node-lease', name: n.name, apiGroup: 'coordination.k8s.io', apiVersion: 'v1' },
            201,
            before,
            after,
          );
        } else {
          write(
            t,
            actors.kwok,
            'update',
            `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${n.name}`,
            {
              resource: 'leases',
              namespace: 'kube-node-lease',
              name: n.name,
              uid: n.leaseUid,
              apiGroup: 'coordination.k8s.io',
              apiVersion: 'v1',
              resourceVersion: String(n.leaseRv - 1),
            },
            200,
            before,
            after,
          );
        }
        const next = t + opts.leaseRenewSec * 1e6 + rng.int(200_000);
        if (next < stopAt) q.push(next, LEASE_RENEW, n);
        break;
      }
      case NS_CREATE: {
        const name = ev.ref as string;
        const obj = {
          kind: 'Namespace',
          apiVersion: 'v1',
          metadata: {
            name,
            uid: rng.uuid(),
            resourceVersion: String(++rv),
            creationTimestamp: new Date(t / 1000).toISOString().slice(0, 19) + 'Z',
            labels: { 'kubernetes.io/metadata.name': name },
          },
          spec: { finalizers: ['kubernetes'] },
          status: { phase: 'Active' },
        };
        write(
          t,
          actors.admin,
          'create',
          '/api/v1/namespaces?fieldManager=kubectl-create&fieldValidation=Strict',
          { resource: 'namespaces', name, apiVersion: 'v1' },
          201,
          { kind: 'Namespace', apiVersion: 'v1', metadata: { name, creationTimestamp: null }, spec: {}, status: {} },
          obj,
        );
        break;
      }
      case DEPLOY_CREATE: {
        const d = ev.ref as DeploymentState;
        d.uid = rng.uuid();
        d.createdUs = t;
        d.rv = ++rv;
        const obj = deploymentObject(d, false);
        write(
          t,
          actors.admin,
          'create',
          `/apis/apps/v1/namespaces/${d.namespace}/deployments?fieldManager=kubectl-client-side-apply&fieldValidation=Strict`,
          { resource: 'deployments', namespace: d.namespace, name: d.name, apiGroup: 'apps', apiVersion: 'v1' },
          201,
          { ...obj, metadata: { name: d.name, namespace: d.namespace, labels: { app: d.name } }, status: undefined },
          obj,
        );
        q.push(t + REACTION_US + rng.int(30_000), RS_CREATE, d);
        break;
      }
      case RS_CREATE: {
        const d = ev.ref as DeploymentState;
        d.rsUid = rng.uuid();
        d.rsCreatedUs = t;
        d.rsRv = ++rv;
        const obj = replicaSetObject(d, false);
        write(
          t,
          actors.deploymentController,
          'create',
          `/apis/apps/v1/namespaces/${d.namespace}/replicasets`,
          { resource: 'replicasets', namespace: d.namespace, name: d.rsName, apiGroup: 'apps', apiVersion: 'v1' },
          201,
          { ...obj, metadata: { ...(obj.metadata as object), uid: undefined, resourceVersion: undefined, creationTimestamp: null, managedFields: undefined } },
          obj,
        );
        toCreate.push(d);
        createdCount.set(d, 0);
        livePods.set(d, []);
        markDeploy(d, t);
        if (!createTicking) {
          createTicking = true;
          q.push(t + REACTION_US, POD_CREATE_TICK, null);
        }
        break;
      }
      case POD_CREATE_TICK: {
        // kube-controller-manager's client rate limit spreads creates over all ReplicaSets
        if (toCreate.length === 0) {
          createTicking = false;
          break;
        }
        createCursor %= toCreate.length;
        const d = toCreate[createCursor]!;
        const n = createdCount.get(d)! + 1;
        createdCount.set(d, n);
        if (n >= d.replicas) toCreate.splice(createCursor, 1);
        else createCursor++;
        const p: PodState = {
          d,
          name: podName(d),
          uid: rng.uuid(),
          rv: ++rv,
          createdUs: t,
          boundUs: 0,
          runningUs: 0,
          deletingUs: 0,
          ip: '',
        };
        d.podsExisting++;
        livePods.get(d)!.push(p);
        write(
          t,
          actors.replicasetController,
          'create',
          `/api/v1/namespaces/${d.namespace}/pods`,
          { resource: 'pods', namespace: d.namespace, apiVersion: 'v1' },
          201,
          podRequest(p),
          podObject(p),
          {
            'pod-security.kubernetes.io/enforce-policy': 'privileged:latest',
          },
        );
        markRs(d, t);
        q.push(t + REACTION_US + rng.int(190_000), POD_BIND, p);
        q.push(t + podTick(), POD_CREATE_TICK, null);
        break;
      }
      case POD_BIND: {
        const p = ev.ref as PodState;
        p.node = nodes[rng.int(nodes.length)]!;
        p.boundUs = t;
        p.rv = ++rv;
        const binding = {
          kind: 'Binding',
          apiVersion: 'v1',
          metadata: { name: p.name, namespace: p.d.namespace, uid: p.uid, creationTimestamp: null },
          target: { kind: 'Node', name: p.node.name },
        };
        write(
          t,
          actors.scheduler,
          'create',
          `/api/v1/namespaces/${p.d.namespace}/pods/${p.name}/binding`,
          { resource: 'pods', namespace: p.d.namespace, name: p.name, apiVersion: 'v1', subresource: 'binding' },
          201,
          binding,
          { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
        );
        q.push(t + 200_000 + rng.int(1_300_000), POD_RUNNING, p);
        break;
      }
      case POD_RUNNING: {
        const p = ev.ref as PodState;
        if (p.deletingUs) break;
        p.runningUs = t;
        p.ip = `10.${128 + (p.node!.index >> 8)}.${p.node!.index & 255}.${1 + rng.int(250)}`;
        p.rv = ++rv;
        write(
          t,
          actors.kwok,
          'patch',
          `/api/v1/namespaces/${p.d.namespace}/pods/${p.name}/status`,
          { resource: 'pods', namespace: p.d.namespace, name: p.name, apiVersion: 'v1', subresource: 'status' },
          200,
          podRunningPatch(p),
          podObject(p),
        );
        p.d.podsRunning++;
        runningTotal++;
        markRs(p.d, t);
        if (runningTotal === opts.pods) {
          deployments.forEach((d, k) => q.push(t + opts.holdSec * 1e6 + k * 200_000 + rng.int(100_000), SCALE_DOWN, d));
        }
        break;
      }
      case RS_STATUS: {
        const d = ev.ref as DeploymentState;
        rsDirty.delete(d);
        if (!d.rsUid) break;
        const before = replicaSetObject(d, true);
        d.rsRv = ++rv;
        write(
          t,
          actors.replicasetController,
          'update',
          `/apis/apps/v1/namespaces/${d.namespace}/replicasets/${d.rsName}/status`,
          {
            resource: 'replicasets',
            namespace: d.namespace,
            name: d.rsName,
            uid: d.rsUid,
            apiGroup: 'apps',
            apiVersion: 'v1',
            resourceVersion: String(d.rsRv - 1),
            subresource: 'status',
          },
          200,
          before,
          replicaSetObject(d, true),
        );
        markDeploy(d, t);
        break;
      }
      case DEPLOY_STATUS: {
        const d = ev.ref as DeploymentState;
        deployDirty.delete(d);
        if (!d.uid) break;
        const before = deploymentObject(d, true);
        d.rv = ++rv;
        write(
          t,
          actors.deploymentController,
          'update',
          `/apis/apps/v1/namespaces/${d.namespace}/deployments/${d.name}/status`,
          {
            resource: 'deployments',
            namespace: d.namespace,
            name: d.name,
            uid: d.uid,
            apiGroup: 'apps',
            apiVersion: 'v1',
            resourceVersion: String(d.rv - 1),
            subresource: 'status',
          },
          200,
          before,
          deploymentObject(d, true),
        );
        break;
      }
      case SCALE_DOWN: {
        const d = ev.ref as DeploymentState;
        d.replicas = 0;
        d.generation++;
        d.rv = ++rv;
        const scale = {
          kind: 'Scale',
          apiVersion: 'autoscaling/v1',
          metadata: {
            name: d.name,
            namespace: d.namespace,
            uid: d.uid,
            resourceVersion: String(d.rv),
            creationTimestamp: new Date(d.createdUs / 1000).toISOString().slice(0, 19) + 'Z',
          },
          spec: {},
          status: { replicas: d.podsExisting, selector: `app=${d.name}` },
        };
        write(
          t,
          actors.admin,
          'patch',
          `/apis/apps/v1/namespaces/${d.namespace}/deployments/${d.name}/scale`,
          { resource: 'deployments', namespace: d.namespace, name: d.name, apiGroup: 'apps', apiVersion: 'v1', subresource: 'scale' },
          200,
          { spec: { replicas: 0 } },
          scale,
        );
        q.push(t + REACTION_US + rng.int(30_000), RS_SCALE, d);
        break;
      }
      case RS_SCALE: {
        // the deployment-controller scales the ReplicaSet down
        const d = ev.ref as DeploymentState;
        d.rsReplicas = 0;
        d.rsGeneration++;
        const before = replicaSetObject(d, true);
        d.rsRv = ++rv;
        write(
          t,
          actors.deploymentController,
          'update',
          `/apis/apps/v1/namespaces/${d.namespace}/replicasets/${d.rsName}`,
          {
            resource: 'replicasets',
            namespace: d.namespace,
            name: d.rsName,
            uid: d.rsUid,
            apiGroup: 'apps',
            apiVersion: 'v1',
            resourceVersion: String(d.rsRv - 1),
          },
          200,
          before,
          replicaSetObject(d, true),
        );
        markDeploy(d, t);
        toDelete.push(d);
        if (!deleteTicking) {
          deleteTicking = true;
          q.push(t + REACTION_US, POD_DELETE_TICK, null);
        }
        break;
      }
      case POD_DELETE_TICK: {
        if (toDelete.length === 0) {
          deleteTicking = false;
          break;
        }
        deleteCursor %= toDelete.length;
        const d = toDelete[deleteCursor]!;
        const pods = livePods.get(d)!;
        const p = pods.pop()!; // the replicaset-controller deletes the youngest pods first
        if (pods.length === 0) toDelete.splice(deleteCursor, 1);
        else deleteCursor++;
        p.deletingUs = t;
        p.rv = ++rv;
        d.podsTerminating++;
        if (p.runningUs) d.podsRunning--;
        write(
          t,
          actors.replicasetController,
          'delete',
          `/api/v1/namespaces/${d.namespace}/pods/${p.name}`,
          { resource: 'pods', namespace: d.namespace, name: p.name, apiVersion: 'v1' },
          200,
          { kind: 'DeleteOptions', apiVersion: 'v1' },
          podObject(p),
        );
        markRs(d, t);
        q.push(t + 200_000 + rng.int(1_300_000), POD_FINAL_DELETE, p);
        q.push(t + podTick(), POD_DELETE_TICK, null);
        break;
      }
      case POD_FINAL_DELETE: {
        const p = ev.ref as PodState;
        const d = p.d;
        p.rv = ++rv;
        write(
          t,
          actors.kwok,
          'delete',
          `/api/v1/namespaces/${d.namespace}/pods/${p.name}`,
          { resource: 'pods', namespace: d.namespace, name: p.name, apiVersion: 'v1' },
          200,
          { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 },
          podObject(p),
        );
        d.podsTerminating--;
        d.podsExisting--;
        markRs(d, t);
        finalDeletedTotal++;
        if (d.podsExisting === 0) q.push(t + 5e6 + rng.int(2e6), DEPLOY_DELETE, d);
        break;
      }
      case DEPLOY_DELETE: {
        const d = ev.ref as DeploymentState;
        write(
          t,
          actors.admin,
          'delete',
          `/apis/apps/v1/namespaces/${d.namespace}/deployments/${d.name}`,
          { resource: 'deployments', namespace: d.namespace, name: d.name, apiGroup: 'apps', apiVersion: 'v1' },
          200,
          { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
          { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: d.name, group: 'apps', kind: 'deployments', uid: d.uid } },
        );
        d.uid = '';
        q.push(t + 50_000 + rng.int(450_000), RS_GC_DELETE, d);
        break;
      }
      case RS_GC_DELETE: {
        const d = ev.ref as DeploymentState;
        write(
          t,
          actors.garbageCollector,
          'delete',
          `/apis/apps/v1/namespaces/${d.namespace}/replicasets/${d.rsName}`,
          { resource: 'replicasets', namespace: d.namespace, name: d.rsName, apiGroup: 'apps', apiVersion: 'v1' },
          200,
          { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { uid: d.rsUid } },
          { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: d.rsName, group: 'apps', kind: 'replicasets', uid: d.rsUid } },
        );
        d.rsUid = '';
        deploymentsDeleted++;
        if (deploymentsDeleted === opts.deployments && finalDeletedTotal === opts.pods) {
          workloadDone = true;
          stopAt = t + 15e6; // a last round of heartbeats, then the recording stops
        }
        break;
      }
    }
    if (out.length > 0) {
      yield* out;
      out.length = 0;
    }
  }
  if (!workloadDone) throw new Error('simulation ended before the workload finished (bug)');
}

export function generateStream(opts: StreamOptions, out: string): StreamStats {
  const started = performance.now();
  const w = new LineWriter(out);
  const byResource: Record<string, number> = {};
  let events = 0;
  let first = '';
  let last = '';
  simulate(opts, (e, resource) => {
    const line = JSON.stringify(e);
    w.line(line);
    events++;
    byResource[resource] = (byResource[resource] ?? 0) + 1;
    if (!first) first = e.stageTimestamp as string;
    last = e.stageTimestamp as string;
  });
  w.close();
  return {
    file: out,
    bytes: statSync(out).size,
    events,
    byResource,
    firstTimestamp: first,
    lastTimestamp: last,
    simulatedSeconds: Math.round((Date.parse(last) - Date.parse(first)) / 1000),
    generateSeconds: +((performance.now() - started) / 1000).toFixed(1),
  };
}

export function optionsFromArgs(argv: string[]): { opts: StreamOptions; out: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      small: { type: 'boolean' },
      nodes: { type: 'string' },
      pods: { type: 'string' },
      deployments: { type: 'string' },
      start: { type: 'string' },
      seed: { type: 'string' },
      'pod-rate': { type: 'string' },
      'lease-renew': { type: 'string' },
      'node-heartbeat': { type: 'string' },
      hold: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const base = values.small ? smallSize : fullSize;
  const num = (v: string | undefined, d: number, name: string) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${v}`);
    return n;
  };
  const opts: StreamOptions = {
    ...base,
    nodes: num(values.nodes, base.nodes, 'nodes'),
    pods: num(values.pods, base.pods, 'pods'),
    seed: num(values.seed, base.seed, 'seed'),
    podRate: num(values['pod-rate'], base.podRate, 'pod-rate'),
    leaseRenewSec: num(values['lease-renew'], base.leaseRenewSec, 'lease-renew'),
    nodeHeartbeatSec: num(values['node-heartbeat'], base.nodeHeartbeatSec, 'node-heartbeat'),
    holdSec: num(values.hold, base.holdSec, 'hold'),
  };
  opts.deployments = num(values.deployments, values.pods !== undefined ? Math.max(1, Math.round(opts.pods / 1000)) : base.deployments, 'deployments');
  if (values.start !== undefined) {
    const ms = Date.parse(values.start);
    if (Number.isNaN(ms)) throw new Error(`--start must be an RFC 3339 time, got ${values.start}`);
    opts.startSec = ms / 1000;
  }
  if (opts.nodes < 1 || opts.pods < 1 || opts.deployments < 1 || opts.deployments > opts.pods) {
    throw new Error('need --nodes ≥ 1, --pods ≥ 1 and 1 ≤ --deployments ≤ --pods');
  }
  opts.namespaces = Math.min(opts.namespaces, opts.deployments);
  const out = values.out ?? `.kubetrail/bench/kwok-audit-${opts.nodes}n-${opts.pods}p-${opts.deployments}d-s${opts.seed}.jsonl`;
  return { opts, out };
}

if (import.meta.main) {
  try {
    const { opts, out } = optionsFromArgs(process.argv.slice(2));
    process.stderr.write(`[generate] ${opts.nodes} nodes, ${opts.pods} pods in ${opts.deployments} deployments -> ${out}\n`);
    const stats = generateStream(opts, out);
    process.stdout.write(JSON.stringify(stats) + '\n');
    process.stderr.write(
      `[generate] ${stats.events} events, ${(stats.bytes / 1e6).toFixed(1)} MB in ${stats.generateSeconds}s (${stats.simulatedSeconds}s simulated)\n`,
    );
  } catch (e) {
    process.stderr.write(`generate-kwok-stream: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
