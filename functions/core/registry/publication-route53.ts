import { createRequire } from 'node:module';
import type * as Route53Sdk from '@aws-sdk/client-route-53';
import type {
  Change,
  ListResourceRecordSetsCommandOutput,
  ResourceRecordSet,
  Route53Client,
  Route53ClientConfig,
} from '@aws-sdk/client-route-53';
import type { PublicationConfig } from './publication-config.js';
import { isManagedName, normalizeName, type RecordSet } from './publication-records.js';

const nodeRequire = createRequire(import.meta.url);
/**
 * The Route 53 SDK, loaded when a publisher is made: the registry module is reached by every process
 * that validates a config, and most never publish (the SDK costs ~1 s of CPU to load).
 */
// A bundle (esbuild: the Lambda functions) defines `require` and bundles what a literal require()
// names; Node's ESM has no `require`, and the module's own createRequire loads the SDK there.
const route53 = (): typeof Route53Sdk =>
  (typeof require === 'function'
    ? require('@aws-sdk/client-route-53')
    : nodeRequire('@aws-sdk/client-route-53')) as typeof Route53Sdk;

/** Writes a pool's records through the Route 53 API. */
export interface Route53Publisher {
  client: Route53Client;
  /** How long to wait for INSYNC after a change (0: do not wait). */
  waitMs: number;
  pollMs: number;
}

/**
 * A publisher with the SDK's usual credentials and region. The endpoint: `endpoint` if given, else
 * the SDK's own `AWS_ENDPOINT_URL_ROUTE_53` / `AWS_ENDPOINT_URL` (LocalStack: http://localhost:4566).
 */
export function createRoute53Publisher(
  options: { endpoint?: string; waitMs?: number; pollMs?: number; client?: Route53ClientConfig } = {},
): Route53Publisher {
  return {
    client: new (route53().Route53Client)({
      region: 'us-east-1',
      ...options.client,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    }),
    waitMs: options.waitMs ?? 60_000,
    pollMs: options.pollMs ?? 2000,
  };
}

/** Publisher settings from a function's environment: FTPX_ROUTE53_ENDPOINT, FTPX_ROUTE53_WAIT_MS. */
export function route53PublisherFromEnv(env: NodeJS.ProcessEnv = process.env): Route53Publisher {
  const wait = env.FTPX_ROUTE53_WAIT_MS;
  if (wait !== undefined && wait !== '' && !/^\d+$/.test(wait)) {
    throw new Error(`FTPX_ROUTE53_WAIT_MS: "${wait}" is not a whole number`);
  }
  return createRoute53Publisher({
    ...(env.FTPX_ROUTE53_ENDPOINT ? { endpoint: env.FTPX_ROUTE53_ENDPOINT } : {}),
    ...(wait ? { waitMs: Number(wait) } : {}),
  });
}

export interface PublicationOutcome {
  /** INSYNC: every change is live on Route 53's servers; PENDING: not yet within waitMs; unchanged: nothing to do. */
  status: 'INSYNC' | 'PENDING' | 'unchanged' | 'failed';
  upserted: string[];
  deleted: string[];
  changeIds: string[];
  error?: string;
}

/** Changes per ChangeResourceRecordSets call (the API allows 1000 records and 32 000 characters). */
const BATCH = 100;

/**
 * Makes the zone hold exactly `desired` among the names publication manages under the domain: the
 * record sets that differ are UPSERTed, the managed ones no longer wanted are DELETEd (with the
 * values the zone holds, as the API requires), in batches, then waits for INSYNC through GetChange.
 * Recomputing from the registry each time means a change lost to a race is repaired by the next one.
 */
export async function syncRecords(
  publisher: Route53Publisher,
  config: PublicationConfig,
  desired: readonly RecordSet[],
): Promise<PublicationOutcome> {
  const zone = config.hostedZoneId.replace(/^\/hostedzone\//, '');
  const current = await listManaged(publisher, zone, config.domain);
  const id = (set: { name: string; type: string }) => `${set.name} ${set.type}`;
  const have = new Map(current.map((set) => [id(set), set]));
  const want = new Map(desired.map((set) => [id(set), set]));
  const changes: Change[] = [];
  const upserted: string[] = [];
  const deleted: string[] = [];
  for (const [key, set] of want) {
    const old = have.get(key);
    if (old && old.ttl === set.ttl && sameValues(old.values, set.values)) continue;
    changes.push({ Action: 'UPSERT', ResourceRecordSet: toRoute53(set) });
    upserted.push(key);
  }
  for (const [key, set] of have) {
    if (want.has(key)) continue;
    changes.push({ Action: 'DELETE', ResourceRecordSet: toRoute53(set) });
    deleted.push(key);
  }
  if (changes.length === 0) return { status: 'unchanged', upserted, deleted, changeIds: [] };
  const changeIds: string[] = [];
  for (let start = 0; start < changes.length; start += BATCH) {
    const result = await publisher.client.send(
      new (route53().ChangeResourceRecordSetsCommand)({
        HostedZoneId: zone,
        ChangeBatch: { Comment: 'ftpx publication', Changes: changes.slice(start, start + BATCH) },
      }),
    );
    if (result.ChangeInfo?.Id) changeIds.push(result.ChangeInfo.Id);
  }
  const status = (await waitInSync(publisher, changeIds)) ? 'INSYNC' : 'PENDING';
  return { status, upserted, deleted, changeIds };
}

async function waitInSync(publisher: Route53Publisher, changeIds: readonly string[]): Promise<boolean> {
  const deadline = Date.now() + publisher.waitMs;
  const pending = new Set(changeIds);
  for (;;) {
    for (const id of [...pending]) {
      const { ChangeInfo: info } = await publisher.client.send(
        new (route53().GetChangeCommand)({ Id: id.replace(/^\/change\//, '') }),
      );
      if (info?.Status === 'INSYNC') pending.delete(id);
    }
    if (pending.size === 0) return true;
    if (Date.now() + publisher.pollMs > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, publisher.pollMs));
  }
}

/**
 * The managed record sets under the domain. Route 53 lists names in the order of their reversed
 * labels, so starting at the domain yields it and its subdomains first: listing stops at the first
 * name outside it.
 */
async function listManaged(publisher: Route53Publisher, zone: string, domain: string): Promise<RecordSet[]> {
  const suffix = normalizeName(domain);
  const found: RecordSet[] = [];
  let start: { name: string; type?: string } | undefined = { name: suffix };
  while (start) {
    const page: ListResourceRecordSetsCommandOutput = await publisher.client.send(
      new (route53().ListResourceRecordSetsCommand)({
        HostedZoneId: zone,
        StartRecordName: start.name,
        ...(start.type ? { StartRecordType: start.type as ResourceRecordSet['Type'] } : {}),
        MaxItems: 300,
      }),
    );
    for (const set of page.ResourceRecordSets ?? []) {
      const name = normalizeName(set.Name ?? '');
      if (name !== suffix && !name.endsWith(`.${suffix}`)) return found;
      const type = set.Type;
      if (
        !isManagedName(name, suffix) ||
        !(type === 'SRV' || type === 'TXT' || type === 'A' || type === 'AAAA')
      ) {
        continue;
      }
      found.push({
        name,
        type,
        ttl: set.TTL ?? 0,
        values: (set.ResourceRecords ?? []).map((record) => record.Value ?? ''),
      });
    }
    start =
      page.IsTruncated && page.NextRecordName
        ? { name: page.NextRecordName, ...(page.NextRecordType ? { type: page.NextRecordType } : {}) }
        : undefined;
  }
  return found;
}

function toRoute53(set: RecordSet): ResourceRecordSet {
  return {
    Name: set.name,
    Type: set.type,
    TTL: set.ttl,
    ResourceRecords: set.values.map((value) => ({ Value: value })),
  };
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  const left = [...a].sort();
  const right = [...b].sort();
  return left.length === right.length && left.every((value, i) => value === right[i]);
}
