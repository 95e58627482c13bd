import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type Item, keyOf, n, readNumber, readString, s } from './attributes.js';
import { isConditionFailure } from './conditional.js';
import { UpdateItemCommand } from './dynamodb-sdk.js';
import { EXPIRES_AT, expiresAtFor, isLive } from './expiry.js';
import type { BackendHealth, CheckResult, HealthThresholds } from './health-records.js';
import { HEALTH_POOLS_PK, HEALTH_PREFIX, keys, poolPk, REGISTRY_POOL_PREFIX } from './keys.js';
import { queryLive } from './query-live.js';
import { cachedRead } from './read-cache.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/** A health record lives this long after its last write (a backend nobody uses any more drops out). */
export const HEALTH_TTL_MS = 7 * 24 * 3600 * 1000;

const MAX_REASON_LENGTH = 512;

/**
 * One failed connect (passive health): counted in the current window (a new window starts when the
 * last one is older than `windowMs`); reaching `failures` in a window, or any failure while on
 * probation, marks the backend unhealthy for the cool-down. Atomic updates only: the count is an
 * ADD, the window restart and the mark are conditional.
 */
export async function recordPassiveFailure(
  table: Table,
  failure: { pool: string; backend: string; reason: string },
  nowMs: number,
  settings: HealthThresholds,
): Promise<{ failures: number; unhealthyUntil?: number; marked: boolean }> {
  const key = keys.health(failure.pool, failure.backend);
  const values: Record<string, AttributeValue> = {
    ':one': n(1),
    ':now': n(nowMs),
    ':floor': n(nowMs - settings.passive.windowMs),
    ':reason': s(failure.reason.slice(0, MAX_REASON_LENGTH)),
    ':backend': s(failure.backend),
    ':exp': n(expiresAtFor(nowMs, HEALTH_TTL_MS)),
  };
  const common = 'lastFailureAt = :now, lastFailureReason = :reason, backend = :backend, #exp = :exp';
  const attempts = [
    { update: `ADD failures :one SET ${common}`, condition: 'windowStart > :floor' },
    {
      update: `SET failures = :one, windowStart = :now, ${common}`,
      condition: 'attribute_not_exists(windowStart) OR windowStart <= :floor',
    },
  ];
  let after: Item | undefined;
  for (let round = 0; round < 10 && !after; round++) {
    for (const attempt of attempts) {
      try {
        const result = await table.client.send(
          new UpdateItemCommand({
            TableName: table.name,
            Key: keyOf(key),
            UpdateExpression: attempt.update,
            ConditionExpression: attempt.condition,
            ExpressionAttributeNames: { '#exp': EXPIRES_AT },
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        after = result.Attributes;
        break;
      } catch (err) {
        if (!isConditionFailure(err)) {
          throw new StoreError(`cannot record a failure of ${failure.backend} in pool ${failure.pool}`, {
            cause: err,
          });
        }
      }
    }
  }
  if (!after) throw new StoreError(`the health of ${failure.backend} kept changing under concurrent writers`);
  // The first failure of a window notes the pool (later ones need not).
  if (readNumber(after, 'windowStart') === nowMs) await notePool(table, failure.pool, nowMs);
  const failures = readNumber(after, 'failures') ?? 1;
  const until = readNumber(after, 'unhealthyUntil');
  if (until !== undefined && until > nowMs) return { failures, unhealthyUntil: until, marked: false };
  const onProbation = until !== undefined;
  if (failures < settings.passive.failures && !onProbation) return { failures, marked: false };
  const newUntil = nowMs + settings.passive.cooldownMs;
  const why = onProbation
    ? `failed again after its cool-down: ${failure.reason}`
    : `${failures} failed connects within ${settings.passive.windowMs} ms, last: ${failure.reason}`;
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(key),
        UpdateExpression: 'SET unhealthyUntil = :until, unhealthyReason = :why, unhealthySince = :now',
        ConditionExpression:
          '(failures >= :n OR attribute_exists(unhealthyUntil)) AND (attribute_not_exists(unhealthyUntil) OR unhealthyUntil <= :now)',
        ExpressionAttributeValues: {
          ':until': n(newUntil),
          ':why': s(why.slice(0, MAX_REASON_LENGTH)),
          ':now': n(nowMs),
          ':n': n(settings.passive.failures),
        },
      }),
    );
    return { failures, unhealthyUntil: newUntil, marked: true };
  } catch (err) {
    // Someone else marked it (or a success cleared it) in between: their write stands.
    if (isConditionFailure(err)) return { failures, marked: false };
    throw new StoreError(`cannot mark ${failure.backend} unhealthy in pool ${failure.pool}`, { cause: err });
  }
}

/**
 * Notes that the pool has health records (item `HEALTH#POOLS` / `POOL#<pool>` with the pool's name,
 * expiring with them), so that scheduled checks find pools no registry lists.
 */
async function notePool(table: Table, pool: string, nowMs: number): Promise<void> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(keys.healthPool(pool)),
        UpdateExpression: 'SET #name = :name, #exp = :exp',
        ExpressionAttributeNames: { '#name': 'name', '#exp': EXPIRES_AT },
        ExpressionAttributeValues: { ':name': s(pool), ':exp': n(expiresAtFor(nowMs, HEALTH_TTL_MS)) },
      }),
    );
  } catch (err) {
    throw new StoreError(`cannot note pool ${pool} as having health records`, { cause: err });
  }
}

/** The pools with live health records (see notePool). */
export async function poolsWithHealth(table: Table, nowMs: number): Promise<string[]> {
  const items = await queryLive(table, HEALTH_POOLS_PK, REGISTRY_POOL_PREFIX, nowMs);
  return items.flatMap((item) => {
    const name = readString(item, 'name');
    return name === undefined ? [] : [name];
  });
}

/**
 * A successful connect: clears the failure window, the cool-down and the probation. Conditional on
 * there being something to clear, so a healthy backend costs no write of substance.
 */
export async function recordConnectSuccess(
  table: Table,
  success: { pool: string; backend: string },
  nowMs: number,
): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(keys.health(success.pool, success.backend)),
        UpdateExpression:
          'SET lastSuccessAt = :now, #exp = :exp REMOVE failures, windowStart, unhealthyUntil, unhealthyReason, unhealthySince',
        ConditionExpression: 'attribute_exists(failures) OR attribute_exists(unhealthyUntil)',
        ExpressionAttributeNames: { '#exp': EXPIRES_AT },
        ExpressionAttributeValues: { ':now': n(nowMs), ':exp': n(expiresAtFor(nowMs, HEALTH_TTL_MS)) },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw new StoreError(`cannot record a success of ${success.backend} in pool ${success.pool}`, {
      cause: err,
    });
  }
}

/**
 * An active check's result: stored as the backend's last check; a pass clears passive state (the
 * backend is healthy again), a failure marks it unhealthy for `activeFailureHoldMs` (extended by every
 * further failing check).
 */
export async function recordCheckResult(
  table: Table,
  target: { pool: string; backend: string },
  result: CheckResult,
  settings: HealthThresholds,
): Promise<void> {
  const values: Record<string, AttributeValue> = {
    ':backend': s(target.backend),
    ':ok': { BOOL: result.ok },
    ':at': n(result.at),
    ':latency': n(result.latencyMs),
    ':protocol': s(result.protocol),
    ':reason': s(result.reason.slice(0, MAX_REASON_LENGTH) || '-'),
    ':exp': n(expiresAtFor(result.at, HEALTH_TTL_MS)),
  };
  const set = [
    'backend = :backend',
    'checkOk = :ok',
    'checkAt = :at',
    'checkLatencyMs = :latency',
    'checkProtocol = :protocol',
    'checkReason = :reason',
    '#exp = :exp',
  ];
  const remove: string[] = [];
  if (result.certNotAfter !== undefined) {
    set.push('certNotAfter = :cert');
    values[':cert'] = n(result.certNotAfter);
  } else remove.push('certNotAfter');
  if (result.warning !== undefined) {
    set.push('checkWarning = :warning');
    values[':warning'] = s(result.warning.slice(0, MAX_REASON_LENGTH));
  } else remove.push('checkWarning');
  if (result.ok) {
    remove.push('failures', 'windowStart', 'unhealthyUntil', 'unhealthyReason', 'unhealthySince');
  } else {
    set.push('unhealthyUntil = :until', 'unhealthyReason = :why');
    values[':until'] = n(result.at + settings.activeFailureHoldMs);
    values[':why'] = s(
      `active ${result.protocol} check failed: ${result.reason}`.slice(0, MAX_REASON_LENGTH),
    );
  }
  await notePool(table, target.pool, result.at);
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: keyOf(keys.health(target.pool, target.backend)),
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ExpressionAttributeNames: { '#exp': EXPIRES_AT },
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    throw new StoreError(`cannot store the check of ${target.backend} in pool ${target.pool}`, {
      cause: err,
    });
  }
}

/** Every live health record of a pool (one strongly consistent Query). */
export async function readPoolHealth(table: Table, pool: string, nowMs: number): Promise<BackendHealth[]> {
  try {
    // Every login reads this: reused briefly (read-cache.ts), re-checked for expiry at `nowMs`.
    const items = await cachedRead(table, { pk: poolPk(pool), prefix: HEALTH_PREFIX, variant: 'live' }, () =>
      queryLive(table, poolPk(pool), HEALTH_PREFIX, nowMs),
    );
    return items.flatMap((item) => {
      if (!isLive(readNumber(item, EXPIRES_AT), nowMs)) return [];
      const health = fromItem(pool, item);
      return health ? [health] : [];
    });
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot read the health of pool ${pool}`, { cause: err });
  }
}

function fromItem(pool: string, item: Item): BackendHealth | undefined {
  const backend = readString(item, 'backend');
  if (backend === undefined) return undefined;
  const optional = (name: string) => readNumber(item, name);
  const health: BackendHealth = { pool, backend, failures: readNumber(item, 'failures') ?? 0 };
  const numbers = ['windowStart', 'lastFailureAt', 'unhealthyUntil', 'lastSuccessAt'] as const;
  for (const name of numbers) {
    const value = optional(name);
    if (value !== undefined) health[name] = value;
  }
  const lastFailureReason = readString(item, 'lastFailureReason');
  if (lastFailureReason !== undefined) health.lastFailureReason = lastFailureReason;
  const unhealthyReason = readString(item, 'unhealthyReason');
  if (unhealthyReason !== undefined) health.unhealthyReason = unhealthyReason;
  const checkAt = optional('checkAt');
  const ok = item.checkOk;
  if (checkAt !== undefined && ok && 'BOOL' in ok) {
    const certNotAfter = optional('certNotAfter');
    const warning = readString(item, 'checkWarning');
    health.check = {
      ok: ok.BOOL === true,
      at: checkAt,
      latencyMs: optional('checkLatencyMs') ?? 0,
      protocol: (readString(item, 'checkProtocol') ?? 'ftp') as CheckResult['protocol'],
      reason: readString(item, 'checkReason') ?? '',
      ...(certNotAfter !== undefined ? { certNotAfter } : {}),
      ...(warning !== undefined ? { warning } : {}),
    };
  }
  return health;
}
