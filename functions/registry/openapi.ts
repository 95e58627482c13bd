import { z } from 'zod';
import { REQUEST_SCHEMAS, RESPONSE_SCHEMAS } from '../contract/registry.js';
import type { Route } from './route.js';

/**
 * The OpenAPI 3.1 document of the registry API, generated: component schemas from the contract's
 * zod schemas (`z.toJSONSchema`, JSON Schema 2020-12 as OpenAPI 3.1 uses; request bodies as input,
 * so defaulted fields are optional, replies as output), paths and operations from the route table.
 * Nothing here is written by hand but prose, so the document cannot drift from what is enforced.
 */
export const OPENAPI_PATH = '/openapi.json';

type Json = Record<string, unknown>;

const SCHEMA_REF = (id: string) => `#/components/schemas/${id}`;

const ERROR_RESPONSES = {
  400: ['BadRequest', 'Invalid request: `issues` names every bad field by path.'],
  401: ['Unauthorized', 'Missing, unknown or expired token.'],
  403: ['Forbidden', 'The token lacks the scope, or may not change this pool.'],
  404: ['NotFound', 'Not found (also: a pool outside the token’s pools, on GET).'],
  405: ['MethodNotAllowed', 'The path exists, the method does not (see Allow).'],
  409: [
    'Conflict',
    'already_exists, version_mismatch (If-Match is stale), conflict, pool_not_empty or pool_being_deleted.',
  ],
  415: ['UnsupportedMediaType', 'The body must be application/json.'],
  500: ['InternalError', 'Internal error (details are only in the logs).'],
} as const satisfies Record<number, readonly [string, string]>;

export function buildOpenApiDocument(routes: readonly Route[]): Json {
  const names = new Map<z.ZodType, string>();
  const requests = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(REQUEST_SCHEMAS)) {
    if (names.has(schema)) continue;
    names.set(schema, id);
    requests.add(schema, { id });
  }
  const responses = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RESPONSE_SCHEMAS)) {
    names.set(schema, id);
    responses.add(schema, { id });
  }
  const schemas = {
    ...componentSchemas(requests, 'input'),
    ...componentSchemas(responses, 'output'),
  };

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, Json>)[route.method.toLowerCase()] = operation(route, names);
  }
  paths[OPENAPI_PATH] = {
    get: {
      operationId: 'getOpenApiDocument',
      summary: 'This document',
      tags: ['meta'],
      security: [],
      responses: { 200: { description: 'The OpenAPI document.', content: { 'application/json': {} } } },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'ftpx registry API',
      version: '1.0.0',
      description:
        'Pools, backends, user and group mappings, proxy users and API tokens of an ftpx gateway. ' +
        'Every item has a `version` (also its ETag): send it in If-Match to PUT, PATCH or DELETE only ' +
        'that version. Lists are paginated with `limit` and the opaque `nextCursor`.',
    },
    tags: [...new Set(routes.map((route) => route.tag)), 'meta'].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      responses: Object.fromEntries(
        Object.values(ERROR_RESPONSES).map(([name, description]) => [
          name,
          { description, content: { 'application/json': { schema: { $ref: SCHEMA_REF('Error') } } } },
        ]),
      ),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API token (ftpx_…) or the bootstrap token; deployed, a JWT or IAM authorizer may stand in.',
        },
      },
    },
    security: [{ bearer: [] }],
  };
}

function componentSchemas(registry: z.core.$ZodRegistry<{ id: string }>, io: 'input' | 'output'): Json {
  const generated = z.toJSONSchema(registry, { io, uri: SCHEMA_REF, unrepresentable: 'any' }) as {
    schemas: Record<string, Json>;
  };
  return Object.fromEntries(
    Object.entries(generated.schemas).map(([id, schema]) => {
      const { $id: _id, $schema: _schema, ...rest } = schema;
      return [id, rest];
    }),
  );
}

function operation(route: Route, names: Map<z.ZodType, string>): Json {
  const parameters = [
    ...parametersOf(route.params, 'path'),
    ...parametersOf(route.query, 'query'),
    ...(route.ifMatch
      ? [
          {
            name: 'If-Match',
            in: 'header',
            required: false,
            description:
              'Act only on this version (the ETag of a previous reply); 409 version_mismatch otherwise.',
            schema: { type: 'string', examples: ['"3"'] },
          },
        ]
      : []),
  ];
  const success: Record<string, Json> = {};
  for (const response of route.responses) {
    success[String(response.status)] = {
      description: response.description,
      ...(response.schema
        ? { content: { 'application/json': { schema: schemaOf(response.schema, names, 'output') } } }
        : {}),
      ...(response.schema instanceof z.ZodObject && 'version' in response.schema.shape
        ? { headers: { ETag: { description: 'The version, quoted.', schema: { type: 'string' } } } }
        : {}),
    };
  }
  const errors = new Set<keyof typeof ERROR_RESPONSES>([400, 500]);
  if (route.access.kind !== 'public') {
    errors.add(401);
    errors.add(403);
  }
  if (route.path.includes('{')) errors.add(404);
  if (route.method !== 'GET') errors.add(409);
  if (route.body) errors.add(415);
  const errorResponses = Object.fromEntries(
    [...errors]
      .sort()
      .map((status) => [String(status), { $ref: `#/components/responses/${ERROR_RESPONSES[status][0]}` }]),
  );
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOf(route.body, names, 'input') } },
          },
        }
      : {}),
    responses: { ...success, ...errorResponses },
    ...(route.access.kind === 'public' ? { security: [] } : {}),
    'x-ftpx-access': route.access,
  };
}

function schemaOf(schema: z.ZodType, names: Map<z.ZodType, string>, io: 'input' | 'output'): Json {
  const name = names.get(schema);
  if (name) return { $ref: SCHEMA_REF(name) };
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

function parametersOf(schema: z.ZodType, where: 'path' | 'query'): Json[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  // Parameters are documented as the values they stand for (limit: an integer), not as raw strings.
  const output = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as {
    properties?: Record<string, Json>;
  };
  return Object.keys(json.properties ?? {}).map((name) => {
    const { description, ...rest } = output.properties?.[name] ?? json.properties?.[name] ?? {};
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}
