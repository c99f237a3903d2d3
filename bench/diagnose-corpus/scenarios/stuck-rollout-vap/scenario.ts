// A rollout stuck on a ValidatingAdmissionPolicy: a Deployment of 3 runs; a policy admin then
// installs a policy that refuses pods with a `:latest` image in this namespace; the next rollout
// uses such an image, so every pod create of the new ReplicaSet is refused.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const POLICY_ADMIN = sa('platform', 'policy-admin');
const POLICY = 'corpus-no-latest-images';

export default {
  async run(ctx) {
    ctx.step('create Deployment web (3 replicas)');
    await ctx.apply(DEPLOYER, deployment('web', 3));
    await waitRunning(ctx, 'web', 3);
    ctx.step('policy-admin installs ValidatingAdmissionPolicy no-latest-images + binding for this namespace');
    await ctx.apply(
      POLICY_ADMIN,
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: POLICY },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
          validations: [{ expression: "object.spec.containers.all(c, !c.image.endsWith(':latest'))", message: 'images tagged :latest are not allowed' }],
        },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: POLICY },
        spec: {
          policyName: POLICY,
          validationActions: ['Deny'],
          matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ctx.ns } } },
        },
      },
    );
    await ctx.sleep(3000);
    ctx.step('deployer rolls web out to image app:latest');
    await ctx.kubectl(['set', 'image', 'deployment/web', 'app=registry.example/app:latest'], { as: DEPLOYER });
    ctx.step('the rollout stays stuck for 65 s');
    await ctx.sleep(65_000);
  },
  async cleanup(ctx) {
    await ctx.kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', POLICY, '--ignore-not-found'], { noNamespace: true });
  },
} satisfies Scenario;
