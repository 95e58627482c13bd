import {
  BACKEND_TLS_SESSION_LIMITS,
  type OcspSource,
  type TlsCacheResponse,
} from '../../contract/tls-cache.js';
import type { Table } from '../store/index.js';
import {
  bumpStats,
  deleteEntry,
  getEntry,
  type Item,
  n,
  putEntry,
  readNumber,
  readString,
  s,
} from '../store/index.js';
import { ocspEntryAttributes } from './ocsp-entry.js';
import { refreshOcspResponses } from './ocsp-refresh.js';
import { ticketKeys } from './ticket-keys.js';

/** One tls-cache request, as the contract's schema outputs it. */
export type TlsCacheOperation =
  | {
      op: 'session-put';
      id: string;
      data: string;
      protocol?: string | undefined;
      startedAt?: number | undefined;
      timeoutS: number;
      maxEntries: number;
      maxEntryBytes: number;
    }
  | { op: 'session-get'; id: string }
  | { op: 'session-delete'; id: string }
  | { op: 'backend-session-put'; backend: string; context: string; data: string; maxEntries: number }
  | { op: 'backend-session-get'; backend: string; context: string }
  | { op: 'ticket-keys'; rotateEveryS: number; lifetimeS: number }
  | { op: 'ocsp-get'; fingerprint: string }
  | {
      op: 'ocsp-put';
      fingerprint: string;
      response: string;
      responseStatus: string;
      certStatus?: 'good' | 'revoked' | 'unknown' | undefined;
      fake?: boolean | undefined;
      fetchedAt: number;
      staleAt: number;
      expiresAt: number;
      maxEntries: number;
      maxEntryBytes: number;
      source?: OcspSource | undefined;
    }
  | { op: 'ocsp-refresh'; aheadS: number; maxTimeoutMs: number; concurrency: number }
  | {
      op: 'report-hits';
      sessionHits?: number | undefined;
      ocspHits?: number | undefined;
      sessionErrors?: number | undefined;
      ocspErrors?: number | undefined;
    };

/** Applies one tls-cache request to the store. */
export async function handleTlsCache(
  table: Table,
  request: TlsCacheOperation,
  options: { now?: () => number } = {},
): Promise<TlsCacheResponse> {
  const nowMs = (options.now ?? Date.now)();
  switch (request.op) {
    case 'session-put': {
      const data = Buffer.from(request.data, 'base64');
      const attributes: Item = { data: { B: data } };
      if (request.protocol) attributes.protocol = s(request.protocol);
      if (request.startedAt !== undefined) attributes.startedAt = n(request.startedAt);
      const result = await putEntry(
        table,
        'sessions',
        request.id,
        { attributes, bytes: data.length, expiresMs: nowMs + request.timeoutS * 1000 },
        request,
        nowMs,
      );
      return { op: 'session-put', result };
    }
    case 'session-get': {
      const found = await getEntry(table, 'sessions', request.id, nowMs);
      if (found.result !== 'hit') return { op: 'session-get', result: found.result };
      return {
        op: 'session-get',
        result: 'hit',
        data: binary(found.item, 'data').toString('base64'),
        expiresAt: found.expiresMs,
      };
    }
    case 'session-delete':
      return { op: 'session-delete', deleted: await deleteEntry(table, 'sessions', request.id, nowMs) };
    case 'backend-session-put': {
      const data = Buffer.from(request.data, 'base64');
      const result = await putEntry(
        table,
        'backend-sessions',
        backendSessionId(request.backend, request.context),
        {
          attributes: { data: { B: data } },
          bytes: data.length,
          expiresMs: nowMs + BACKEND_TLS_SESSION_LIMITS.timeoutS * 1000,
        },
        { maxEntries: request.maxEntries, maxEntryBytes: BACKEND_TLS_SESSION_LIMITS.maxEntryBytes },
        nowMs,
      );
      return { op: 'backend-session-put', result };
    }
    case 'backend-session-get': {
      const found = await getEntry(
        table,
        'backend-sessions',
        backendSessionId(request.backend, request.context),
        nowMs,
      );
      if (found.result !== 'hit') return { op: 'backend-session-get', result: found.result };
      return {
        op: 'backend-session-get',
        result: 'hit',
        data: binary(found.item, 'data').toString('base64'),
        expiresAt: found.expiresMs,
      };
    }
    case 'ticket-keys':
      return { op: 'ticket-keys', ...(await ticketKeys(table, request, nowMs)) };
    case 'ocsp-get': {
      const found = await getEntry(table, 'ocsp', request.fingerprint, nowMs);
      if (found.result !== 'hit') return { op: 'ocsp-get', result: found.result };
      const { item } = found;
      const certStatus = readString(item, 'certStatus');
      return {
        op: 'ocsp-get',
        result: 'hit',
        response: binary(item, 'response').toString('base64'),
        responseStatus: readString(item, 'responseStatus') ?? 'successful',
        ...(certStatus === 'good' || certStatus === 'revoked' || certStatus === 'unknown'
          ? { certStatus }
          : {}),
        fake: item.fake !== undefined && 'BOOL' in item.fake ? item.fake.BOOL === true : false,
        fetchedAt: readNumber(item, 'fetchedAt') ?? 0,
        staleAt: readNumber(item, 'staleAt') ?? 0,
        expiresAt: found.expiresMs,
      };
    }
    case 'ocsp-put': {
      const response = Buffer.from(request.response, 'base64');
      const attributes = ocspEntryAttributes(
        {
          response,
          responseStatus: request.responseStatus,
          certStatus: request.certStatus,
          fake: request.fake === true,
          fetchedAt: request.fetchedAt,
          staleAt: request.staleAt,
        },
        request.source,
        request,
      );
      const result = await putEntry(
        table,
        'ocsp',
        request.fingerprint,
        { attributes, bytes: response.length, expiresMs: request.expiresAt },
        request,
        nowMs,
      );
      return { op: 'ocsp-put', result };
    }
    case 'ocsp-refresh': {
      return { op: 'ocsp-refresh', ...(await refreshOcspResponses(table, request, options.now ?? Date.now)) };
    }
    case 'report-hits': {
      await Promise.all([
        bumpStats(
          table,
          'sessions',
          { hits: request.sessionHits ?? 0, errors: request.sessionErrors ?? 0 },
          nowMs,
        ),
        bumpStats(table, 'ocsp', { hits: request.ocspHits ?? 0, errors: request.ocspErrors ?? 0 }, nowMs),
      ]);
      return { op: 'report-hits', recorded: true };
    }
  }
}

/**
 * A backend session's entry: its trust context first (fixed-length hex, so no backend key can forge
 * another pair), then the backend key. Entries of one backend under other contexts stay apart.
 */
function backendSessionId(backend: string, context: string): string {
  return `${context}#${backend}`;
}

function binary(item: Item, name: string): Buffer {
  const value = item[name];
  return value && 'B' in value && value.B ? Buffer.from(value.B) : Buffer.alloc(0);
}
