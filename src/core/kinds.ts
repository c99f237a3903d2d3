// Kind → (group, resource) for references that name a kind (Event involvedObject, ownerReferences).
// Well-known kinds are mapped exactly; unknown kinds get the usual lowercase-plural guess.

export const KNOWN: Record<string, [group: string, resource: string]> = {
  Pod: ['', 'pods'],
  Node: ['', 'nodes'],
  Service: ['', 'services'],
  Endpoints: ['', 'endpoints'],
  ConfigMap: ['', 'configmaps'],
  Secret: ['', 'secrets'],
  Namespace: ['', 'namespaces'],
  ServiceAccount: ['', 'serviceaccounts'],
  PersistentVolumeClaim: ['', 'persistentvolumeclaims'],
  PersistentVolume: ['', 'persistentvolumes'],
  ReplicationController: ['', 'replicationcontrollers'],
  Event: ['', 'events'],
  LimitRange: ['', 'limitranges'],
  ResourceQuota: ['', 'resourcequotas'],
  Binding: ['', 'bindings'],
  Deployment: ['apps', 'deployments'],
  ReplicaSet: ['apps', 'replicasets'],
  StatefulSet: ['apps', 'statefulsets'],
  DaemonSet: ['apps', 'daemonsets'],
  ControllerRevision: ['apps', 'controllerrevisions'],
  Job: ['batch', 'jobs'],
  CronJob: ['batch', 'cronjobs'],
  EndpointSlice: ['discovery.k8s.io', 'endpointslices'],
  HorizontalPodAutoscaler: ['autoscaling', 'horizontalpodautoscalers'],
  Lease: ['coordination.k8s.io', 'leases'],
  Ingress: ['networking.k8s.io', 'ingresses'],
  IngressClass: ['networking.k8s.io', 'ingressclasses'],
  NetworkPolicy: ['networking.k8s.io', 'networkpolicies'],
  PodDisruptionBudget: ['policy', 'poddisruptionbudgets'],
  StorageClass: ['storage.k8s.io', 'storageclasses'],
  VolumeAttachment: ['storage.k8s.io', 'volumeattachments'],
  CSINode: ['storage.k8s.io', 'csinodes'],
  PriorityClass: ['scheduling.k8s.io', 'priorityclasses'],
  Role: ['rbac.authorization.k8s.io', 'roles'],
  RoleBinding: ['rbac.authorization.k8s.io', 'rolebindings'],
  ClusterRole: ['rbac.authorization.k8s.io', 'clusterroles'],
  ClusterRoleBinding: ['rbac.authorization.k8s.io', 'clusterrolebindings'],
  CustomResourceDefinition: ['apiextensions.k8s.io', 'customresourcedefinitions'],
  APIService: ['apiregistration.k8s.io', 'apiservices'],
  CertificateSigningRequest: ['certificates.k8s.io', 'certificatesigningrequests'],
  MutatingWebhookConfiguration: ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations'],
  ValidatingWebhookConfiguration: ['admissionregistration.k8s.io', 'validatingwebhookconfigurations'],
};

/** kubectl's short names (the UI's kind field, `kubetrail explain deploy/web`). */
export const SHORT_NAMES: Record<string, string> = {
  deploy: 'deployments',
  rs: 'replicasets',
  po: 'pods',
  no: 'nodes',
  svc: 'services',
  ep: 'endpoints',
  cm: 'configmaps',
  sts: 'statefulsets',
  ds: 'daemonsets',
  pvc: 'persistentvolumeclaims',
  pv: 'persistentvolumes',
  ns: 'namespaces',
  sa: 'serviceaccounts',
  ing: 'ingresses',
  hpa: 'horizontalpodautoscalers',
  pdb: 'poddisruptionbudgets',
  cj: 'cronjobs',
  ev: 'events',
  rc: 'replicationcontrollers',
  sc: 'storageclasses',
  crd: 'customresourcedefinitions',
  pc: 'priorityclasses',
  netpol: 'networkpolicies',
  quota: 'resourcequotas',
  limits: 'limitranges',
  csr: 'certificatesigningrequests',
};

/**
 * A kind as kubectl users type it — kind (`Deployment`, `deployment`), plural resource
 * (`deployments`) or short name (`deploy`) — → [group, resource]; undefined when not a known one.
 */
export function knownResource(word: string): [group: string, resource: string] | undefined {
  const w = word.toLowerCase();
  const resource = SHORT_NAMES[w] ?? w;
  for (const [kind, gr] of Object.entries(KNOWN)) if (gr[1] === resource || kind.toLowerCase() === w) return gr;
  return undefined;
}

/** Splits `group/version` ('v1' = core) into group and version. */
export function splitApiVersion(apiVersion: unknown): { group: string; version: string } {
  if (typeof apiVersion !== 'string' || apiVersion === '') return { group: '', version: '' };
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** Lowercase plural as Kubernetes' RESTMapper guesses it (UnsafeGuessKindToResource). */
export function guessResource(kind: string): string {
  const k = kind.toLowerCase();
  if (k.endsWith('s')) return k + 'es';
  if (k.endsWith('y') && !/[aeiou]y$/.test(k)) return k.slice(0, -1) + 'ies';
  return k + 's';
}

/** Group, version and resource of an object reference given by apiVersion + kind. */
export function kindToResource(apiVersion: unknown, kind: unknown): { group: string; version: string; resource: string } {
  const { group, version } = splitApiVersion(apiVersion);
  if (typeof kind !== 'string' || kind === '') return { group, version, resource: '' };
  const known = KNOWN[kind];
  // A known kind in a different group (e.g. a CRD named Job) must not be remapped.
  if (known && (apiVersion === undefined || apiVersion === '' || known[0] === group)) {
    return { group: known[0], version, resource: known[1] };
  }
  return { group, version, resource: guessResource(kind) };
}

// Cluster-scoped built-in resources ('group/resource'): their objects never have a namespace, even
// when an audit objectRef or an Event's involvedObject carries one (for /api/v1/namespaces/foo
// the API server sets objectRef.namespace "foo"). Discovery (the informers) adds the rest.
const CLUSTER_SCOPED = new Set([
  '/namespaces',
  '/nodes',
  '/persistentvolumes',
  '/componentstatuses',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  'storage.k8s.io/storageclasses',
  'storage.k8s.io/volumeattachments',
  'storage.k8s.io/csinodes',
  'storage.k8s.io/csidrivers',
  'scheduling.k8s.io/priorityclasses',
  'node.k8s.io/runtimeclasses',
  'networking.k8s.io/ingressclasses',
  'networking.k8s.io/ipaddresses',
  'networking.k8s.io/servicecidrs',
  'apiextensions.k8s.io/customresourcedefinitions',
  'apiregistration.k8s.io/apiservices',
  'certificates.k8s.io/certificatesigningrequests',
  'certificates.k8s.io/clustertrustbundles',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingadmissionpolicies',
  'admissionregistration.k8s.io/validatingadmissionpolicybindings',
  'flowcontrol.apiserver.k8s.io/flowschemas',
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations',
  'authentication.k8s.io/tokenreviews',
  'authentication.k8s.io/selfsubjectreviews',
  'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'resource.k8s.io/deviceclasses',
  'resource.k8s.io/resourceslices',
]);

/** True for the built-in cluster-scoped resources (group '' = core). */
export function isClusterScoped(group: string, resource: string): boolean {
  return CLUSTER_SCOPED.has(`${group}/${resource}`);
}
