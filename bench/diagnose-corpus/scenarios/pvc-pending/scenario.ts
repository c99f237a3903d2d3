// A PVC left Pending: a team creates a PersistentVolumeClaim of a StorageClass that does not exist
// and a Deployment whose pod mounts it; the claim is never bound and the pod waits on it.
import { deployment, sa, type Scenario } from '../../scenario-lib.ts';

const TEAM = sa('team-a', 'deployer');

export default {
  async run(ctx) {
    ctx.step('team-a deployer creates PVC data (storageClassName fast-ssd: no such class) and Deployment db mounting it');
    await ctx.apply(
      TEAM,
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { storageClassName: 'fast-ssd', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
      deployment('db', 1, {
        containers: [{ name: 'app', image: 'registry.example/db:1.0', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      }),
    );
    ctx.step('PVC Pending and pod waiting for 65 s');
    await ctx.sleep(65_000);
  },
} satisfies Scenario;
