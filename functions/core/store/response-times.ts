import { smoothConnectMs } from '../ewma.js';
import type { Random } from '../random.js';
import { keyOf, n, readNumber, readString, s } from './attributes.js';
import { backoff, isConditionFailure } from './conditional.js';
import { GetItemCommand, UpdateItemCommand } from './dynamodb-sdk.js';
import { EXPIRES_AT, expiresAtFor, isLive } from './expiry.js';
import { keys, poolPk, RESPONSE_TIME_PREFIX } from './keys.js';
import { queryLive } from './query-live.js';
import { StoreError } from './store-error.js';
import type { Table } from './table.js';

/**
 * Smoothed connect times (LeastResponseTime): one item per (pool, backend) with the EWMA of its
 * connect samples, the sample count and a `version` for optimistic concurrency. A backend without a
 * sample for `RESPONSE_TIME_TTL_MS` starts over as unmeasured: old timings say little.
 */
export const RESPONSE_TIME_TTL_MS = 7 * 24 * 3600 * 1000;

/** Attempts before a sample is given up under contention (it is a sample: losing one is harmless). */
const MAX_ATTEMPTS = 25;

export interface ResponseTime {
  ewmaMs: number;
  samples: number;
}

/** The live smoothed connect time of every measured backend of a pool, by backend key. */
export async function readResponseTimes(
  table: Table,
  pool: string,
  nowMs: number,
): Promise<Map<string, ResponseTime>> {
  try {
    const items = await queryLive(table, poolPk(pool), RESPONSE_TIME_PREFIX, nowMs);
    const times = new Map<string, ResponseTime>();
    for (const item of items) {
      const backend = readString(item, 'backend');
      const ewmaMs = readNumber(item, 'ewmaMs');
      if (backend !== undefined && ewmaMs !== undefined) {
        times.set(backend, { ewmaMs, samples: readNumber(item, 'samples') ?? 1 });
      }
    }
    return times;
  } catch (err) {
    throw new StoreError(`cannot read the response times of pool ${pool}`, { cause: err });
  }
}

/**
 * Folds one connect sample into a backend's average: read the item with its `version`, compute,
 * write back only if `version` is unchanged (or the item still absent), else re-read and retry after
 * a short random pause. Returns the new average, or undefined if every attempt lost a race.
 */
export async function recordConnectSample(
  table: Table,
  pool: string,
  backend: string,
  connectMs: number,
  nowMs: number,
  random: Random,
): Promise<ResponseTime | undefined> {
  const key = keyOf(keys.responseTime(pool, backend));
  try {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const { Item: item } = await table.client.send(
        new GetItemCommand({ TableName: table.name, Key: key, ConsistentRead: true }),
      );
      const version = readNumber(item, 'version');
      const live = item !== undefined && isLive(readNumber(item, EXPIRES_AT), nowMs);
      const previous = live ? readNumber(item, 'ewmaMs') : undefined;
      const next: ResponseTime = {
        ewmaMs: smoothConnectMs(previous, connectMs),
        samples: (live ? (readNumber(item, 'samples') ?? 0) : 0) + 1,
      };
      try {
        await table.client.send(
          new UpdateItemCommand({
            TableName: table.name,
            Key: key,
            UpdateExpression:
              'SET ewmaMs = :ewma, samples = :samples, version = :next, backend = :backend, lastSampleMs = :sample, updatedAt = :nowMs, #exp = :exp',
            ConditionExpression: version === undefined ? 'attribute_not_exists(pk)' : 'version = :version',
            ExpressionAttributeNames: { '#exp': EXPIRES_AT },
            ExpressionAttributeValues: {
              ':ewma': n(next.ewmaMs),
              ':samples': n(next.samples),
              ':next': n((version ?? 0) + 1),
              ':backend': s(backend),
              ':sample': n(connectMs),
              ':nowMs': n(nowMs),
              ':exp': n(expiresAtFor(nowMs, RESPONSE_TIME_TTL_MS)),
              ...(version === undefined ? {} : { ':version': n(version) }),
            },
          }),
        );
        return next;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        await backoff(attempt, random);
      }
    }
    return undefined;
  } catch (err) {
    throw new StoreError(`cannot record a connect time for ${backend} in pool ${pool}`, { cause: err });
  }
}
