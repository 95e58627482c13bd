import type { z } from 'zod';
import { DEFAULT_PAGE_SIZE, listQuerySchema, noQuerySchema } from '../contract/registry.js';
import type { SaveOutcome } from '../core/store/index.js';
import { notFound } from '../core/store/index.js';
import { etag, type Reply } from './http.js';
import { type Access, created, noContent, ok, type Route, type RouteContext, route } from './route.js';
import type { HttpMethod } from './router.js';

/**
 * The routes of a versioned registry item (pools, backends, mappings, proxy users, tokens): a list
 * of the collection, a create, and GET, PUT, PATCH, DELETE of one item. Every item reply carries the
 * item's `version` as its ETag; PUT, PATCH and DELETE honour If-Match with that version, so a client
 * changes only what it last read (optimistic concurrency: a stale version is 409 version_mismatch,
 * a missing item 404, a name already taken 409 already_exists — raised by core/registry).
 * A resource supplies its paths, schemas, views and the domain calls; the shape is written once here.
 */

type Versioned = { version: number };

/** Optimistic concurrency of a change: the If-Match version, when the request sent one. */
export interface IfMatch {
  ifMatch?: number;
}

/** One page of a list, as the domain's list functions take it. */
export interface PageRequest {
  limit: number;
  cursor: string | undefined;
}

interface Operation {
  summary: string;
  /** Who may call it, when not the item's `read` (list, GET) or `write` (changes). */
  access?: Access;
}

/** A create at the collection's path: the domain (or the body) names the new item. */
interface CreateInCollection<CP, P, R, C> extends Operation {
  at: 'collection';
  body: z.ZodType<C>;
  run(params: CP, body: C, context: RouteContext): Promise<R>;
  /** The new item's path parameters, for its Location. */
  keyOf(params: CP, record: R): P;
}

/** A create at the item's own path that answers 409 where PUT would replace. */
interface CreateAtItem<P, R, C> extends Operation {
  at: 'item';
  body: z.ZodType<C>;
  run(params: P, body: C, context: RouteContext): Promise<R>;
}

export interface VersionedItem<CP, P, R, C, U, D> {
  tag: string;
  /** Operation ids: `list<plural>`, then `create`, `get`, `put`, `patch`, `delete` + `<singular>`. */
  singular: string;
  plural: string;
  collection: { path: string; params: z.ZodType<CP> };
  item: { path: string; params: z.ZodType<P> };
  read: Access;
  write: Access;
  /** An item as replies show it. */
  schema: z.ZodType;
  view(record: R): Versioned;
  /** The item, as a 404 names it. */
  what(params: P): string;
  /** The item's path: the Location of a created item. */
  location(params: P): string;
  /** Completes the view of a created or changed item (a backend's: re-publishing its pool). */
  changed?(params: P, view: Versioned, context: RouteContext): Promise<Versioned>;
  /** Runs after a delete, before the answer. */
  deleted?(params: P, context: RouteContext): Promise<void>;
  list: Operation & {
    description: string;
    schema: z.ZodType;
    run(params: CP, page: PageRequest, context: RouteContext): Promise<{ items: R[]; nextCursor?: string }>;
  };
  /** A ready route stands for a create that answers something else than the item (a token's secret). */
  create: CreateInCollection<CP, P, R, C> | CreateAtItem<P, R, C> | Route;
  get: Operation & { description: string; run(params: P, context: RouteContext): Promise<R | undefined> };
  put: Operation & {
    body: z.ZodType<U>;
    /** False where PUT only replaces (the item is created otherwise): always 200. */
    creates?: boolean;
    run(
      params: P,
      body: U,
      options: IfMatch & { nowMs: number },
      context: RouteContext,
    ): Promise<{ record: R; outcome: SaveOutcome }>;
  };
  patch: Operation & {
    body: z.ZodType<D>;
    run(
      params: P,
      body: D,
      options: IfMatch & { nowMs: number },
      context: RouteContext,
    ): Promise<{ record: R }>;
  };
  delete: Operation & { run(params: P, options: IfMatch, context: RouteContext): Promise<void> };
}

/** An item reply with its version as ETag. */
export function item(status: number, view: Versioned, headers: Record<string, string> = {}): Reply {
  return { status, body: view, headers: { etag: etag(view.version), ...headers } };
}

const ifMatchOf = (ifMatch: number | undefined): IfMatch => (ifMatch !== undefined ? { ifMatch } : {});

export function versionedItemRoutes<CP, P, R, C, U, D>(spec: VersionedItem<CP, P, R, C, U, D>): Route[] {
  const { tag, singular, collection, schema } = spec;
  /** What a route of this item shares: its operation id, summary, tag and access (`read` or `write`). */
  const named = (method: HttpMethod, verb: string, operation: Operation, access: Access) => ({
    method,
    operationId: `${verb}${singular}`,
    summary: operation.summary,
    tag,
    access: operation.access ?? access,
  });
  /** A route of one item: its path parameters and no query. */
  const onItem = (method: HttpMethod, verb: string, operation: Operation, access: Access) => ({
    ...named(method, verb, operation, access),
    path: spec.item.path,
    params: spec.item.params,
    query: noQuerySchema,
  });
  const shown = async (params: P, record: R, context: RouteContext): Promise<Versioned> => {
    const view = spec.view(record);
    return spec.changed ? spec.changed(params, view, context) : view;
  };
  const createdReply = async (params: P, record: R, context: RouteContext): Promise<Reply> =>
    item(201, await shown(params, record, context), { location: spec.location(params) });

  const list = route({
    ...named('GET', 'list', spec.list, spec.read),
    operationId: `list${spec.plural}`,
    path: collection.path,
    params: collection.params,
    query: listQuerySchema,
    responses: [ok(spec.list.schema, spec.list.description)],
    handle: async ({ params, query }, context) => {
      const page = { limit: query.limit ?? DEFAULT_PAGE_SIZE, cursor: query.cursor };
      const result = await spec.list.run(params, page, context);
      const items = result.items.map((record) => spec.view(record));
      return {
        status: 200,
        body: { items, ...(result.nextCursor ? { nextCursor: result.nextCursor } : {}) },
      };
    },
  });
  const create = createRoute();
  function createRoute(): Route {
    const operation = spec.create;
    if (!('at' in operation)) return operation;
    const answers = { body: operation.body, responses: [created(schema, 'Created.')] };
    if (operation.at === 'item') {
      return route({
        ...onItem('POST', 'create', operation, spec.write),
        ...answers,
        handle: async ({ params, body }, context) =>
          createdReply(params, await operation.run(params, body, context), context),
      });
    }
    return route({
      ...named('POST', 'create', operation, spec.write),
      path: collection.path,
      params: collection.params,
      query: noQuerySchema,
      ...answers,
      handle: async ({ params, body }, context) => {
        const record = await operation.run(params, body, context);
        return createdReply(operation.keyOf(params, record), record, context);
      },
    });
  }
  const get = route({
    ...onItem('GET', 'get', spec.get, spec.read),
    responses: [ok(schema, spec.get.description)],
    handle: async ({ params }, context) => {
      const record = await spec.get.run(params, context);
      if (record === undefined) throw notFound(spec.what(params));
      return item(200, spec.view(record));
    },
  });
  const creates = spec.put.creates ?? true;
  const put = route({
    ...onItem('PUT', 'put', spec.put, spec.write),
    body: spec.put.body,
    ifMatch: true,
    responses: [ok(schema, 'Replaced, or already so.'), ...(creates ? [created(schema, 'Created.')] : [])],
    handle: async ({ params, body, ifMatch }, context) => {
      const options = { ...ifMatchOf(ifMatch), nowMs: context.nowMs };
      const { record, outcome } = await spec.put.run(params, body, options, context);
      // PUT answers 201 when it created the item, 200 when it replaced it or found it already so.
      if (creates && outcome === 'created') return createdReply(params, record, context);
      return item(200, await shown(params, record, context));
    },
  });
  const patch = route({
    ...onItem('PATCH', 'patch', spec.patch, spec.write),
    body: spec.patch.body,
    ifMatch: true,
    responses: [ok(schema, 'Updated.')],
    handle: async ({ params, body, ifMatch }, context) => {
      const options = { ...ifMatchOf(ifMatch), nowMs: context.nowMs };
      const { record } = await spec.patch.run(params, body, options, context);
      return item(200, await shown(params, record, context));
    },
  });
  const remove = route({
    ...onItem('DELETE', 'delete', spec.delete, spec.write),
    ifMatch: true,
    responses: [noContent],
    handle: async ({ params, ifMatch }, context) => {
      await spec.delete.run(params, ifMatchOf(ifMatch), context);
      await spec.deleted?.(params, context);
      return { status: 204 };
    },
  });
  // The collection's routes first, then the item's (the order the OpenAPI document lists them in).
  return create.path === collection.path
    ? [list, create, get, put, patch, remove]
    : [list, get, create, put, patch, remove];
}
