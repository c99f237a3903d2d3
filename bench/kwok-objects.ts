// Builders for the objects and audit events a KWOK scale test makes kube-apiserver 1.33 write at
// RequestResponse level. Shared by the stream generator (generate-kwok-stream.ts) and the webhook
// load generator (webhook-otlp.ts), so both benchmarks feed kubetrail the same shapes.
// Field order follows the Go structs (audit.k8s.io/v1 Event, core/v1 Pod, ...), as the API server
// serializes them; managedFields are included because the default audit policy keeps them.

/** Small fast seeded PRNG (sfc32): the same seed gives the same stream, byte for byte. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** [0, 1) */
  float(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }
  /** Exponentially distributed with the given mean (Poisson arrivals). */
  expo(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  uuid(): string {
    const h = (x: number, n: number) => x.toString(16).padStart(8, '0').slice(0, n);
    const a = this.u32();
    const b = this.u32();
    const c = this.u32();
    const d = this.u32();
    const v = ((b & 0xffff0fff) | 0x4000) >>> 0; // version 4
    const r = ((c & 0x3fffffff) | 0x80000000) >>> 0; // variant 10
    return `${h(a, 8)}-${h(v, 8).slice(0, 4)}-${h(v, 8).slice(4)}-${h(r, 8).slice(0, 4)}-${h(r, 8).slice(4)}${h(d, 8)}`;
  }
  /** Lower-case alphanumerics without vowels, as Kubernetes' generateName suffixes and pod-template-hash use. */
  suffix(n: number): string {
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

// ---- time formatting (simulation time is integer Unix microseconds) ----------------------------

let cachedSec = -1;
let cachedPrefix = '';
/** metav1.MicroTime: 2026-01-01T00:20:00.123456Z */
export function microTime(us: number): string {
  const sec = Math.floor(us / 1e6);
  if (sec !== cachedSec) {
    cachedSec = sec;
    cachedPrefix = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  return `${cachedPrefix}.${String(us - sec * 1e6).padStart(6, '0')}Z`;
}
/** metav1.Time: second precision. */
export function metaTime(us: number): string {
  return new Date(Math.floor(us / 1e6) * 1000).toISOString().slice(0, 19) + 'Z';
}

// ---- who ---------------------------------------------------------------------------------------

export const KUBE_VERSION = 'v1.33.0';
const KUBE_COMMIT = '60a317eadfcb839692a5eab34d7e6e6b8e9ae2e8'.slice(0, 7);

export interface Actor {
  user: { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> };
  userAgent: string;
  sourceIP: string;
  /** authorization.k8s.io/reason */
  reason: string;
}

function controllerActor(controller: string): Actor {
  const sa = `system:serviceaccount:kube-system:${controller}`;
  return {
    user: {
      username: sa,
      uid: `${controller}-uid`,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    },
    userAgent: `kube-controller-manager/${KUBE_VERSION} (linux/amd64) kubernetes/${KUBE_COMMIT}/${sa}`,
    sourceIP: '127.0.0.1',
    reason: `RBAC: allowed by ClusterRoleBinding "system:controller:${controller}" of ClusterRole "system:controller:${controller}" to ServiceAccount "${controller}/kube-system"`,
  };
}

export const actors = {
  admin: {
    user: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] },
    userAgent: `kubectl/${KUBE_VERSION} (linux/amd64) kubernetes/${KUBE_COMMIT}`,
    sourceIP: '127.0.0.1',
    reason: 'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"',
  },
  kwokctl: {
    user: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] },
    userAgent: 'kwokctl/v0.7.0 (linux/amd64) kubernetes/v0.7.0',
    sourceIP: '127.0.0.1',
    reason: 'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"',
  },
  kwok: {
    user: { username: 'kwok-controller', groups: ['system:masters', 'system:authenticated'] },
    userAgent: 'kwok/v0.7.0 (linux/amd64) kubernetes/v0.7.0',
    sourceIP: '127.0.0.1',
    reason: '',
  },
  scheduler: {
    user: { username: 'system:kube-scheduler', groups: ['system:authenticated'] },
    userAgent: `kube-scheduler/${KUBE_VERSION} (linux/amd64) kubernetes/${KUBE_COMMIT}/scheduler`,
    sourceIP: '127.0.0.1',
    reason: 'RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" to User "system:kube-scheduler"',
  },
  deploymentController: controllerActor('deployment-controller'),
  replicasetController: controllerActor('replicaset-controller'),
  garbageCollector: controllerActor('generic-garbage-collector'),
} satisfies Record<string, Actor>;

// ---- the audit event envelope ------------------------------------------------------------------

export interface AuditObjectRef {
  resource: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion: string;
  resourceVersion?: string;
  subresource?: string;
}

export interface EventInput {
  auditID: string;
  requestURI: string;
  verb: string;
  actor: Actor;
  objectRef: AuditObjectRef;
  code: number;
  requestObject?: unknown;
  responseObject?: unknown;
  /** Unix microseconds when the request arrived and when the response completed. */
  receivedUs: number;
  completedUs: number;
  extraAnnotations?: Record<string, string>;
}

/** One audit.k8s.io/v1 Event at stage ResponseComplete, level RequestResponse. */
export function auditEvent(e: EventInput): Record<string, unknown> {
  const annotations: Record<string, string> = { 'authorization.k8s.io/decision': 'allow' };
  if (e.actor.reason) annotations['authorization.k8s.io/reason'] = e.actor.reason;
  if (e.extraAnnotations) Object.assign(annotations, e.extraAnnotations);
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: e.auditID,
    stage: 'ResponseComplete',
    requestURI: e.requestURI,
    verb: e.verb,
    user: e.actor.user,
    sourceIPs: [e.actor.sourceIP],
    userAgent: e.actor.userAgent,
    objectRef: e.objectRef,
    responseStatus: { metadata: {}, code: e.code },
    requestObject: e.requestObject,
    responseObject: e.responseObject,
    requestReceivedTimestamp: microTime(e.receivedUs),
    stageTimestamp: microTime(e.completedUs),
    annotations,
  };
}

// ---- managedFields (static shapes; only the manager time changes) -----------------------------

const podControllerFields = {
  'f:metadata': {
    'f:generateName': {},
    'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} },
    'f:ownerReferences': { '.': {}, 'k:{"uid":"owner"}': {} },
  },
  'f:spec': {
    'f:affinity': { '.': {}, 'f:nodeAffinity': { '.': {}, 'f:requiredDuringSchedulingIgnoredDuringExecution': {} } },
    'f:containers': {
      'k:{"name":"app"}': {
        '.': {},
        'f:image': {},
        'f:imagePullPolicy': {},
        'f:name': {},
        'f:resources': { '.': {}, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } },
        'f:terminationMessagePath': {},
        'f:terminationMessagePolicy': {},
      },
    },
    'f:dnsPolicy': {},
    'f:enableServiceLinks': {},
    'f:restartPolicy': {},
    'f:schedulerName': {},
    'f:securityContext': {},
    'f:terminationGracePeriodSeconds': {},
    'f:tolerations': {},
  },
};
const podStatusFields = {
  'f:status': {
    'f:conditions': {
      'k:{"type":"ContainersReady"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
      'k:{"type":"Initialized"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
      'k:{"type":"Ready"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
    },
    'f:containerStatuses': {},
    'f:hostIP': {},
    'f:hostIPs': {},
    'f:phase': {},
    'f:podIP': {},
    'f:podIPs': { '.': {}, 'k:{"ip":"x"}': { '.': {}, 'f:ip': {} } },
    'f:startTime': {},
  },
};
const nodeCreateFields = {
  'f:metadata': {
    'f:annotations': { '.': {}, 'f:kwok.x-k8s.io/node': {}, 'f:node.alpha.kubernetes.io/ttl': {} },
    'f:labels': {
      '.': {},
      'f:beta.kubernetes.io/arch': {},
      'f:beta.kubernetes.io/os': {},
      'f:kubernetes.io/arch': {},
      'f:kubernetes.io/hostname': {},
      'f:kubernetes.io/os': {},
      'f:kubernetes.io/role': {},
      'f:node-role.kubernetes.io/agent': {},
      'f:type': {},
    },
  },
  'f:spec': { 'f:taints': {} },
};
const nodeStatusFields = {
  'f:status': {
    'f:addresses': {},
    'f:allocatable': { 'f:cpu': {}, 'f:memory': {}, 'f:pods': {} },
    'f:capacity': { 'f:cpu': {}, 'f:memory': {}, 'f:pods': {} },
    'f:conditions': {},
    'f:daemonEndpoints': { 'f:kubeletEndpoint': { 'f:Port': {} } },
    'f:nodeInfo': { 'f:architecture': {}, 'f:kubeletVersion': {}, 'f:operatingSystem': {} },
    'f:phase': {},
  },
};

function managed(manager: string, timeUs: number, fields: unknown, subresource?: string) {
  const m: Record<string, unknown> = {
    manager,
    operation: 'Update',
    apiVersion: 'v1',
    time: metaTime(timeUs),
    fieldsType: 'FieldsV1',
    fieldsV1: fields,
  };
  if (subresource) m.subresource = subresource;
  return m;
}

// ---- nodes and node leases ---------------------------------------------------------------------

export interface NodeState {
  index: number;
  name: string;
  uid: string;
  createdUs: number;
  ip: string;
  rv: number;
  /** last status heartbeat (Unix µs); 0 before the first */
  heartbeatUs: number;
  leaseUid: string;
  leaseRv: number;
  leaseCreatedUs: number;
}

export function nodeObject(n: NodeState): Record<string, unknown> {
  const readyAt = metaTime(n.createdUs);
  const hb = metaTime(n.heartbeatUs || n.createdUs);
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: hb,
    lastTransitionTime: readyAt,
    reason,
    message,
  });
  const metadata: Record<string, unknown> = {
    name: n.name,
    uid: n.uid,
    resourceVersion: String(n.rv),
    creationTimestamp: metaTime(n.createdUs),
    labels: {
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': n.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/role': 'agent',
      'node-role.kubernetes.io/agent': '',
      type: 'kwok',
    },
    annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    managedFields: n.heartbeatUs
      ? [managed('kwokctl', n.createdUs, nodeCreateFields), managed('kwok', n.heartbeatUs, nodeStatusFields, 'status')]
      : [managed('kwokctl', n.createdUs, nodeCreateFields)],
  };
  const node: Record<string, unknown> = {
    kind: 'Node',
    apiVersion: 'v1',
    metadata,
    spec: { taints: [{ key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' }] },
  };
  node.status = n.heartbeatUs
    ? {
        capacity: { cpu: '32', memory: '256Gi', pods: '110' },
        allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
        phase: 'Running',
        conditions: [
          cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
        ],
        addresses: [
          { type: 'InternalIP', address: n.ip },
          { type: 'Hostname', address: n.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: '',
          systemUUID: '',
          bootID: '',
          kernelVersion: '',
          osImage: '',
          containerRuntimeVersion: '',
          kubeletVersion: 'fake',
          kubeProxyVersion: '',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      }
    : {
        capacity: { cpu: '32', memory: '256Gi', pods: '110' },
        allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
        daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
        nodeInfo: {
          machineID: '',
          systemUUID: '',
          bootID: '',
          kernelVersion: '',
          osImage: '',
          containerRuntimeVersion: '',
          kubeletVersion: '',
          kubeProxyVersion: '',
          operatingSystem: '',
          architecture: '',
        },
      };
  return node;
}

/** The strategic merge patch kwok sends on a node heartbeat. */
export function nodeHeartbeatPatch(n: NodeState): Record<string, unknown> {
  const status = nodeObject(n).status as Record<string, unknown>;
  return { status: { conditions: status.conditions, phase: 'Running', addresses: status.addresses } };
}

export function leaseObject(n: NodeState, renewUs: number): Record<string, unknown> {
  return {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    metadata: {
      name: n.name,
      namespace: 'kube-node-lease',
      uid: n.leaseUid,
      resourceVersion: String(n.leaseRv),
      creationTimestamp: metaTime(n.leaseCreatedUs),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: n.name, uid: n.uid }],
      managedFields: [
        {
          manager: 'kwok',
          operation: 'Update',
          apiVersion: 'coordination.k8s.io/v1',
          time: metaTime(renewUs),
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:ownerReferences': { '.': {}, [`k:{"uid":"${n.uid}"}`]: {} } },
            'f:spec': { 'f:holderIdentity': {}, 'f:leaseDurationSeconds': {}, 'f:renewTime': {} },
          },
        },
      ],
    },
    spec: { holderIdentity: n.name, leaseDurationSeconds: 40, renewTime: microTime(renewUs) },
  };
}

// ---- deployments, replicasets, pods -------------------------------------------------------------

export interface DeploymentState {
  namespace: string;
  name: string;
  uid: string;
  replicas: number;
  generation: number;
  rv: number;
  createdUs: number;
  rsName: string;
  rsUid: string;
  rsRv: number;
  rsGeneration: number;
  rsReplicas: number;
  rsCreatedUs: number;
  hash: string;
  /** pods currently existing (not finally deleted), running, and terminating */
  podsExisting: number;
  podsRunning: number;
  podsTerminating: number;
}

function podTemplate(d: DeploymentState, withHash: boolean) {
  const labels: Record<string, string> = { app: d.name };
  if (withHash) labels['pod-template-hash'] = d.hash;
  return {
    metadata: { labels },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'registry.k8s.io/pause:3.10',
          resources: { requests: { cpu: '100m', memory: '64Mi' } },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'type', operator: 'In', values: ['kwok'] }] }],
          },
        },
      },
      schedulerName: 'default-scheduler',
      tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
    },
  };
}

export function deploymentObject(d: DeploymentState, withStatus: boolean): Record<string, unknown> {
  const obj: Record<string, unknown> = {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: {
      name: d.name,
      namespace: d.namespace,
      uid: d.uid,
      resourceVersion: String(d.rv),
      generation: d.generation,
      creationTimestamp: metaTime(d.createdUs),
      labels: { app: d.name },
      annotations: withStatus ? { 'deployment.kubernetes.io/revision': '1' } : undefined,
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: metaTime(d.createdUs),
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': { 'f:replicas': {}, 'f:selector': {}, 'f:template': { 'f:metadata': { 'f:labels': {} }, 'f:spec': {} } },
          },
        },
      ],
    },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: { app: d.name } },
      template: podTemplate(d, false),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  };
  if (withStatus) {
    const available = d.podsRunning >= d.replicas - Math.floor(d.replicas / 4);
    obj.status = {
      observedGeneration: d.generation,
      replicas: d.podsExisting - d.podsTerminating,
      updatedReplicas: d.podsExisting - d.podsTerminating,
      readyReplicas: d.podsRunning,
      availableReplicas: d.podsRunning,
      unavailableReplicas: Math.max(0, d.replicas - d.podsRunning) || undefined,
      conditions: [
        {
          type: 'Available',
          status: available ? 'True' : 'False',
          lastUpdateTime: metaTime(d.createdUs),
          lastTransitionTime: metaTime(d.createdUs),
          reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
        },
        {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: metaTime(d.createdUs),
          lastTransitionTime: metaTime(d.createdUs),
          reason: 'ReplicaSetUpdated',
          message: `ReplicaSet "${d.rsName}" is progressing.`,
        },
      ],
    };
  }
  return obj;
}

export function replicaSetObject(d: DeploymentState, withStatus: boolean): Record<string, unknown> {
  const obj: Record<string, unknown> = {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    metadata: {
      name: d.rsName,
      namespace: d.namespace,
      uid: d.rsUid,
      resourceVersion: String(d.rsRv),
      generation: d.rsGeneration,
      creationTimestamp: metaTime(d.rsCreatedUs),
      labels: { app: d.name, 'pod-template-hash': d.hash },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(d.replicas),
        'deployment.kubernetes.io/max-replicas': String(d.replicas + Math.ceil(d.replicas / 4)),
        'deployment.kubernetes.io/revision': '1',
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.name, uid: d.uid, controller: true, blockOwnerDeletion: true }],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: metaTime(d.rsCreatedUs),
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:annotations': {}, 'f:labels': {}, 'f:ownerReferences': {} },
            'f:spec': { 'f:replicas': {}, 'f:selector': {}, 'f:template': {} },
          },
        },
      ],
    },
    spec: {
      replicas: d.rsReplicas,
      selector: { matchLabels: { app: d.name, 'pod-template-hash': d.hash } },
      template: podTemplate(d, true),
    },
  };
  if (withStatus) {
    obj.status = {
      replicas: d.podsExisting - d.podsTerminating,
      fullyLabeledReplicas: d.podsExisting - d.podsTerminating,
      readyReplicas: d.podsRunning,
      availableReplicas: d.podsRunning,
      observedGeneration: d.rsGeneration,
    };
  }
  return obj;
}

export interface PodState {
  d: DeploymentState;
  name: string;
  uid: string;
  rv: number;
  createdUs: number;
  node?: NodeState;
  boundUs: number;
  runningUs: number;
  deletingUs: number;
  ip: string;
}

/** The pod as the replicaset-controller asks for it (generateName, no name yet). */
export function podRequest(p: PodState): Record<string, unknown> {
  const t = podTemplate(p.d, true);
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      generateName: `${p.d.rsName}-`,
      namespace: p.d.namespace,
      creationTimestamp: null,
      labels: t.metadata.labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: p.d.rsName, uid: p.d.rsUid, controller: true, blockOwnerDeletion: true }],
    },
    spec: t.spec,
    status: {},
  };
}

export function podObject(p: PodState): Record<string, unknown> {
  const t = podTemplate(p.d, true);
  const tokenVolume = `kube-api-access-${p.name.slice(-5)}`;
  const spec: Record<string, unknown> = {
    volumes: [
      {
        name: tokenVolume,
        projected: {
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            {
              downwardAPI: {
                items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
              },
            },
          ],
          defaultMode: 420,
        },
      },
    ],
    containers: [
      {
        ...t.spec.containers[0],
        volumeMounts: [{ name: tokenVolume, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
      },
    ],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'default',
    serviceAccount: 'default',
    nodeName: p.boundUs ? p.node!.name : undefined,
    securityContext: {},
    affinity: t.spec.affinity,
    schedulerName: 'default-scheduler',
    tolerations: [
      { key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    priority: 0,
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
  };
  const metadata: Record<string, unknown> = {
    name: p.name,
    generateName: `${p.d.rsName}-`,
    namespace: p.d.namespace,
    uid: p.uid,
    resourceVersion: String(p.rv),
    creationTimestamp: metaTime(p.createdUs),
    deletionTimestamp: p.deletingUs ? metaTime(p.deletingUs + 30e6) : undefined,
    deletionGracePeriodSeconds: p.deletingUs ? 30 : undefined,
    labels: t.metadata.labels,
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: p.d.rsName, uid: p.d.rsUid, controller: true, blockOwnerDeletion: true }],
    managedFields: p.runningUs
      ? [managed('kube-controller-manager', p.createdUs, podControllerFields), managed('kwok', p.runningUs, podStatusFields, 'status')]
      : [managed('kube-controller-manager', p.createdUs, podControllerFields)],
  };
  return { kind: 'Pod', apiVersion: 'v1', metadata, spec, status: podStatus(p) };
}

function podStatus(p: PodState): Record<string, unknown> {
  const cond = (type: string, atUs: number) => ({
    type,
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: metaTime(atUs),
  });
  if (!p.boundUs) return { phase: 'Pending', qosClass: 'Burstable' };
  if (!p.runningUs) return { phase: 'Pending', conditions: [cond('PodScheduled', p.boundUs)], qosClass: 'Burstable' };
  return {
    phase: 'Running',
    conditions: [cond('Initialized', p.runningUs), cond('Ready', p.runningUs), cond('ContainersReady', p.runningUs), cond('PodScheduled', p.boundUs)],
    hostIP: p.node!.ip,
    hostIPs: [{ ip: p.node!.ip }],
    podIP: p.ip,
    podIPs: [{ ip: p.ip }],
    startTime: metaTime(p.runningUs),
    containerStatuses: [
      {
        name: 'app',
        state: { running: { startedAt: metaTime(p.runningUs) } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: 'registry.k8s.io/pause:3.10',
        imageID: '',
        started: true,
      },
    ],
    qosClass: 'Burstable',
  };
}

/** The strategic merge patch kwok sends to pods/status when it makes a pod Running. */
export function podRunningPatch(p: PodState): Record<string, unknown> {
  const s = podStatus(p);
  return {
    status: {
      conditions: s.conditions,
      containerStatuses: s.containerStatuses,
      hostIP: s.hostIP,
      hostIPs: s.hostIPs,
      phase: 'Running',
      podIP: s.podIP,
      podIPs: s.podIPs,
      startTime: s.startTime,
    },
  };
}
