// A namespace stuck Terminating: a tenant namespace holds a ConfigMap with a finalizer that
// nobody removes (put there by a legacy operator); a tenant admin deletes the namespace, which
// stays Terminating (NamespaceFinalizersRemaining) for as long as the ConfigMap keeps it.
import { DEPLOYER, sa, type Scenario } from '../../scenario-lib.ts';

const OPERATOR = sa('ops', 'legacy-operator');
const TENANT_ADMIN = sa('ops', 'tenant-admin');

export default {
  async run(ctx) {
    const tenant = `${ctx.ns}-tenant`;
    ctx.step(`create namespace ${tenant}; legacy-operator creates ConfigMap lock with finalizer example.com/lock there`);
    await ctx.kubectl(['create', 'namespace', tenant], { as: DEPLOYER, noNamespace: true });
    await ctx.waitFor(
      'the tenant default ServiceAccount',
      async () => (await ctx.kubectl(['get', 'sa', 'default', '-n', tenant, '-o', 'name'], { noNamespace: true })).trim() !== '',
    );
    const lock = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'lock', namespace: tenant, finalizers: ['example.com/lock'] },
      data: { held: 'yes' },
    };
    await ctx.kubectl(['apply', '-n', tenant, '-f', '-'], { as: OPERATOR, input: JSON.stringify(lock), noNamespace: true });
    await ctx.sleep(5000);
    ctx.step(`tenant-admin deletes namespace ${tenant}; it stays Terminating for 65 s`);
    await ctx.kubectl(['delete', 'namespace', tenant, '--wait=false'], { as: TENANT_ADMIN, noNamespace: true });
    await ctx.sleep(65_000);
  },
  async cleanup(ctx) {
    const tenant = `${ctx.ns}-tenant`;
    await ctx.kubectl(['patch', 'configmap', 'lock', '-n', tenant, '--type=merge', '-p', '{"metadata":{"finalizers":null}}'], {
      noNamespace: true,
      allowFail: true,
    });
    await ctx.kubectl(['wait', '--for=delete', `namespace/${tenant}`, '--timeout=90s'], { noNamespace: true, allowFail: true });
  },
} satisfies Scenario;
