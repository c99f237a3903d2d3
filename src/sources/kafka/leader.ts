// Leader election on a coordination.k8s.io/v1 Lease, so the informers of a cluster run in one
// receiver at a time (docs/scale-out.md). @kubernetes/client-node (JS) ships no leader election,
// so this is the small algorithm of client-go's leaderelection, with optimistic concurrency:
//   - every `retryPeriod`: read the Lease. Missing → create it naming us (409: someone was faster).
//   - held by us → renew (replace with our renewTime; the read's resourceVersion makes a
//     concurrent writer's replace fail with 409, never both win).
//   - held by another: expired when its holder/renewTime did not change for `leaseDuration` as
//     observed on OUR clock (no clock skew between machines matters) → take it over (replace,
//     leaseTransitions + 1).
//   - a leader that could not renew for `leaseDuration` stops leading (onStoppedLeading) before a
//     follower may take over; stop() releases the Lease (holder cleared) so a successor need not wait.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { log as rootLog, type Logger } from '../../core/log.ts';

export interface LeaderOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSec?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
  logger?: Logger;
}

const code = (e: unknown): number | undefined => (e as { code?: number })?.code;

export class LeaseElector {
  readonly #o: LeaderOptions;
  readonly #api: CoordinationV1Api;
  readonly #logger: Logger;
  readonly #durationSec: number;
  #leading = false;
  #lastRenew = 0;
  #observed: { key: string; at: number } | undefined;
  /** The holder we last logged as leading while we follow ('' = none logged yet). */
  #following = '';
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(o: LeaderOptions) {
    this.#o = o;
    this.#api = o.kc.makeApiClient(CoordinationV1Api);
    this.#durationSec = o.leaseDurationSec ?? 15;
    this.#logger = o.logger ?? rootLog.child({ component: 'leader', lease: `${o.namespace}/${o.name}`, identity: o.identity });
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    const tick = async () => {
      if (this.#stopped) return;
      await this.#try().catch((err) => this.#logger.warn({ err: (err as Error).message }, 'lease update failed'));
      if (this.#leading && Date.now() - this.#lastRenew > this.#durationSec * 1000) await this.#lose('could not renew within the lease duration');
      if (!this.#stopped) this.#timer = setTimeout(() => void tick(), this.#o.retryPeriodMs ?? Math.max(500, (this.#durationSec * 1000) / 5));
    };
    void tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#leading) return;
    await this.#lose('stopping');
    try {
      const lease = await this.#api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
      if (lease.spec?.holderIdentity === this.#o.identity) {
        // released: no holder (times left out, a read Date would not serialize as MicroTime)
        lease.spec = { leaseDurationSeconds: lease.spec.leaseDurationSeconds, leaseTransitions: lease.spec.leaseTransitions };
        await this.#api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: lease });
      }
    } catch (err) {
      this.#logger.warn({ err: (err as Error).message }, 'could not release the lease');
    }
  }

  async #lose(why: string): Promise<void> {
    if (!this.#leading) return;
    this.#leading = false;
    this.#logger.info({ why }, 'stopped leading');
    await this.#o.onStoppedLeading();
  }

  async #win(): Promise<void> {
    this.#lastRenew = Date.now();
    if (this.#leading || this.#stopped) return;
    this.#leading = true;
    this.#following = '';
    this.#logger.info('started leading');
    await this.#o.onStartedLeading();
  }

  #spec(transitions: number, acquire?: V1Lease['spec']): V1Lease['spec'] {
    // MicroTime: the API server wants microseconds (a plain Date serializes with milliseconds: 400)
    const now = new V1MicroTime();
    return {
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: this.#durationSec,
      acquireTime: acquire?.acquireTime ? new V1MicroTime(acquire.acquireTime) : now,
      renewTime: now,
      leaseTransitions: transitions,
    };
  }

  async #try(): Promise<void> {
    const { name, namespace, identity } = this.#o;
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (code(err) !== 404) throw err;
      try {
        await this.#api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: this.#spec(0) } });
        await this.#win();
      } catch (e) {
        if (code(e) !== 409) throw e;
      }
      return;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    if (holder === identity) {
      lease.spec = this.#spec(spec.leaseTransitions ?? 0, spec);
      await this.#replace(lease);
      return;
    }
    // someone else (or nobody, after a release): expired once unchanged for its duration on our clock
    if (holder !== '' && holder !== this.#following) {
      this.#following = holder;
      this.#logger.info({ holder }, 'following: another process holds the lease and does the work; taking over if it stops renewing');
    }
    const key = `${holder}|${String(spec.renewTime ?? '')}`;
    if (this.#observed?.key !== key) this.#observed = { key, at: Date.now() };
    const duration = (spec.leaseDurationSeconds ?? this.#durationSec) * 1000;
    if (holder !== '' && Date.now() - this.#observed.at < duration) return;
    lease.spec = this.#spec((spec.leaseTransitions ?? 0) + 1);
    await this.#replace(lease);
  }

  async #replace(lease: V1Lease): Promise<void> {
    try {
      await this.#api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: lease });
      await this.#win();
    } catch (err) {
      if (code(err) === 409) return; // another writer won this round
      throw err;
    }
  }
}
