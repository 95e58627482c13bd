import { z } from 'zod';
import { CONNECT_POLICIES } from '../../functions/contract/connect-policies.js';

/**
 * Every knob of the stack, read from CDK context (`cdk.json`, `-c key=value`, or a context file such
 * as `infra/context/small.json`). One zod schema, so a typo or a wrong type fails `cdk synth` with
 * the key's name instead of deploying something else.
 */
const cidr = z
  .string()
  .regex(/^\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 network such as 10.0.0.0/16 or 0.0.0.0/0');

/** The values CloudWatch Logs accepts (aws-logs RetentionDays). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** A Secrets Manager secret: its name or its full ARN. */
const secretName = z
  .string()
  .regex(
    /^(?:arn:aws[a-z-]*:secretsmanager:[^:]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512}$/,
    'a secret name or ARN',
  );

/** Which listener a pool serves, by its backends' scheme. */
export function poolKind(pool: { backends: string[] }): 'ftp' | 'sftp' | 'mixed' {
  const sftp = pool.backends.filter((backend) => /^sftp:/i.test(backend)).length;
  if (sftp === 0) return 'ftp';
  return sftp === pool.backends.length ? 'sftp' : 'mixed';
}

function defaultProtocols(edge: {
  pools: { backends: string[] }[];
  secrets: { tlsCertificate?: string | undefined };
}): ('ftp' | 'ftps' | 'sftp')[] {
  const kinds = new Set(edge.pools.map(poolKind));
  const protocols: ('ftp' | 'ftps' | 'sftp')[] = [];
  if (kinds.has('ftp')) protocols.push('ftp');
  if (kinds.has('ftp') && edge.secrets.tlsCertificate !== undefined) protocols.push('ftps');
  if (kinds.has('sftp')) protocols.push('sftp');
  return protocols.length > 0 ? protocols : ['ftp'];
}

const poolSchema = z
  .object({
    name: z.string().min(1),
    /** Listed backends (the worker's YAML `backends`); registered backends are added at every selection. */
    backends: z.array(z.string().min(1)).min(1),
    connectPolicy: z.enum(CONNECT_POLICIES).default('RoundRobin'),
    /**
     * Private networks where backends registered through the API (or found by DNS) may live
     * (the worker's `allowDestinationNetworks`); without it the edge refuses them, so a tenant cannot
     * aim the proxy into the VPC.
     */
    allowDestinationNetworks: z.array(cidr).optional(),
  })
  .strict();

export const parametersSchema = z
  .object({
    /** Prefix of every physical name (table, log groups, cluster). */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,30}$/, 'lower-case letters, digits and "-"')
      .default('ftpx'),
    table: z
      .object({
        deletionProtection: z.boolean().default(true),
        pointInTimeRecovery: z.boolean().default(true),
        /** `retain` keeps the table (and its data) when the stack is deleted. */
        removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
      })
      .strict()
      .prefault({}),
    functions: z
      .object({
        memoryMb: z.number().int().min(128).max(10240).default(256),
        /** One of CloudWatch Logs' retention periods. */
        logRetentionDays: z
          .number()
          .refine((days) => LOG_RETENTION_DAYS.includes(days), {
            message: `one of ${LOG_RETENTION_DAYS.join(', ')}`,
          })
          .default(30),
        /**
         * Reserved concurrency of the functions that write on every session (resolve-backend,
         * session-events): it caps the write rate an edge storm can put on the table. 0: no reservation.
         */
        edgeReservedConcurrency: z.number().int().min(0).default(0),
        /**
         * Networks the scheduled health checks may probe in registered and discovered backends
         * (FTPX_HEALTH_CHECK_ALLOW_NETWORKS). Empty: only public addresses are actively checked, so a
         * tenant cannot point the checks into the VPC; name the backends' private subnets to check them.
         */
        healthCheckAllowNetworks: z.array(cidr).default([]),
      })
      .strict()
      .prefault({}),
    api: z
      .object({
        /** How the registration API authorises: `iam` (SigV4) or `jwt` (an OpenID Connect issuer). */
        registryAuth: z.enum(['iam', 'jwt']).default('iam'),
        jwt: z
          .object({ issuer: z.url(), audience: z.array(z.string().min(1)).min(1) })
          .strict()
          .optional(),
        /** Stage-wide throttling (requests per second and burst). */
        throttle: z
          .object({ rateLimit: z.number().positive(), burstLimit: z.number().int().positive() })
          .strict()
          .default({ rateLimit: 500, burstLimit: 1000 }),
      })
      .strict()
      .prefault({}),
    schedules: z
      .object({
        healthCheck: z.string().default('rate(1 minute)'),
        discoveryRefresh: z.string().default('rate(5 minutes)'),
        /** Must run at least once per tlsCache.ticketRotateEverySeconds (checked below). */
        ticketKeyRotation: z.string().default('rate(6 hours)'),
        /** Refreshes OCSP responses that go stale before the next run. */
        ocspRefresh: z.string().default('rate(1 hour)'),
      })
      .strict()
      .prefault({}),
    /**
     * The shared TLS caches: one source for the edge workers' YAML (`tlsCache.sessions.timeout`,
     * `tlsCache.tickets.rotateEvery`) and the ticket-key rotation schedule's request.
     */
    tlsCache: z
      .object({
        /** TLSSessionCache's timeout: how long a session or ticket may be resumed. */
        sessionTimeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(30 * 86_400)
          .default(1800),
        /** How long one session ticket key is current. */
        ticketRotateEverySeconds: z
          .number()
          .int()
          .min(60)
          .max(30 * 86_400)
          .default(43_200),
      })
      .strict()
      .prefault({}),
    dns: z
      .object({
        /** The zone published backends go in; none when absent. */
        zoneName: z.string().min(1).optional(),
        private: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    vpc: z
      .object({ maxAzs: z.number().int().min(2).max(6).default(2), cidr: cidr.default('10.40.0.0/16') })
      .strict()
      .prefault({}),
    edge: z
      .object({
        /** An image URI instead of building `Dockerfile` from this repository. */
        image: z.string().min(1).optional(),
        cpu: z.number().int().default(512),
        memoryMb: z.number().int().default(1024),
        minTasks: z.number().int().min(1).default(2),
        maxTasks: z.number().int().min(1).default(10),
        /** Target CPU utilisation of the autoscaling policy. */
        cpuTarget: z.number().int().min(10).max(90).default(60),
        /** Scale out when the NLB carries more flows than this per task (step scaling). */
        flowsPerTask: z.number().int().min(1).default(500),
        /** How long a stopping task keeps its sessions (NLB deregistration delay and ECS stop timeout). */
        drainSeconds: z.number().int().min(0).max(3600).default(300),
        internetFacing: z.boolean().default(true),
        /** Which address a task writes in 227/229 replies: its public IP, or its private one (VPN, peering). */
        passiveAddress: z.enum(['public', 'private']).default('public'),
        passivePorts: z
          .object({ min: z.number().int().min(1024), max: z.number().int().max(65535) })
          .strict()
          .default({ min: 30000, max: 30099 }),
        /** Who may open control and data connections. */
        clientNetworks: z.array(cidr).min(1).default(['0.0.0.0/0']),
        /** The admin endpoint (`--admin-listen`) the NLB health checks use (`/readyz`). */
        adminPort: z.number().int().min(1024).max(65535).default(9000),
        /**
         * Which NLB listeners exist: FTP (21; FTPS by AUTH TLS too when a certificate is named),
         * implicit FTPS (990, needs `secrets.tlsCertificate`), SFTP (22, needs a pool of sftp:// backends).
         * Absent: what the pools and secrets allow (ftp with an FTP pool, ftps with a certificate too,
         * sftp with an SFTP pool).
         */
        protocols: z
          .array(z.enum(['ftp', 'ftps', 'sftp']))
          .min(1)
          .optional(),
        /**
         * FTP listeners serve the first pool with ftp:// backends, the SFTP listener the first with
         * sftp:// backends; the other pools of the same kind are host pools (chosen by HOST / SNI).
         */
        pools: z
          .array(poolSchema)
          .min(1)
          .prefault([
            { name: 'main', backends: ['ftp://backend.internal:21'] },
            { name: 'sftp', backends: ['sftp://backend.internal:22'] },
          ]),
        /**
         * The AWS Distro for OpenTelemetry collector as a sidecar of every edge task: the worker sends
         * its login traces over OTLP/HTTP to it (OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318),
         * and it forwards them to X-Ray. Off by default (the worker then traces nothing).
         */
        otel: z
          .object({
            enabled: z.boolean().default(false),
            /** The collector's image; pin a version tag in production. */
            image: z.string().min(1).default('public.ecr.aws/aws-observability/aws-otel-collector:latest'),
          })
          .strict()
          .prefault({}),
        /**
         * Secrets Manager secrets (a name or a full ARN) the task gets as ECS secrets. Absent: the stack
         * creates the admin token and the SSH host key seed (generated once by Secrets Manager, kept on
         * every update). The FTPS certificate cannot be made by the stack: name a secret whose JSON has
         * `certificate` (PEM, chain after it) and `privateKey` (PEM).
         */
        secrets: z
          .object({
            adminToken: secretName.optional(),
            sshHostKeySeed: secretName.optional(),
            tlsCertificate: secretName.optional(),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .transform((edge) => ({ ...edge, protocols: edge.protocols ?? defaultProtocols(edge) }))
      .refine((edge) => edge.passivePorts.min <= edge.passivePorts.max, {
        path: ['passivePorts'],
        message: 'min must not exceed max',
      })
      .refine((edge) => edge.minTasks <= edge.maxTasks, {
        path: ['maxTasks'],
        message: 'must be at least minTasks',
      })
      .refine((edge) => !edge.protocols.includes('ftps') || edge.secrets.tlsCertificate !== undefined, {
        path: ['secrets', 'tlsCertificate'],
        message:
          'ftps needs a certificate: the name or ARN of a Secrets Manager secret with JSON keys certificate and privateKey',
      })
      .refine(
        (edge) => !edge.protocols.includes('sftp') || edge.pools.some((pool) => poolKind(pool) === 'sftp'),
        {
          path: ['pools'],
          message: 'sftp needs a pool of sftp:// backends',
        },
      )
      .refine(
        (edge) =>
          !edge.protocols.some((protocol) => protocol !== 'sftp') ||
          edge.pools.some((pool) => poolKind(pool) === 'ftp'),
        { path: ['pools'], message: 'ftp and ftps need a pool of ftp:// (or ftps://) backends' },
      )
      .refine((edge) => edge.pools.every((pool) => poolKind(pool) !== 'mixed'), {
        path: ['pools'],
        message: 'a pool holds either FTP or SFTP backends, not both (a session cannot change protocol)',
      })
      .prefault({}),
    alarms: z.object({ email: z.email().optional() }).strict().prefault({}),
  })
  .strict()
  .superRefine((parameters, ctx) => {
    if (parameters.api.registryAuth === 'jwt' && !parameters.api.jwt) {
      ctx.addIssue({ code: 'custom', path: ['api', 'jwt'], message: 'registryAuth jwt needs api.jwt' });
    }
    for (const key of ['ticketKeyRotation', 'ocspRefresh'] as const) {
      if (rateSeconds(parameters.schedules[key]) === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', key],
          message: 'must be a rate expression such as rate(6 hours)',
        });
      }
    }
    // Each run creates the current and the next period's key: one run per period at least means
    // the next key always exists before its period starts.
    const rotation = rateSeconds(parameters.schedules.ticketKeyRotation);
    if (rotation !== undefined && rotation > parameters.tlsCache.ticketRotateEverySeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedules', 'ticketKeyRotation'],
        message: `must run at least every tlsCache.ticketRotateEverySeconds (${parameters.tlsCache.ticketRotateEverySeconds} s)`,
      });
    }
  });

const RATE_UNITS: Record<string, number> = {
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86_400,
  days: 86_400,
};

/** The interval of an EventBridge `rate(N unit)` expression in seconds; undefined for anything else. */
export function rateSeconds(expression: string): number | undefined {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const unit = RATE_UNITS[match[2] as string];
  const count = Number(match[1]);
  return unit === undefined || count < 1 ? undefined : count * unit;
}

export type StackParameters = z.output<typeof parametersSchema>;
export type StackParametersInput = z.input<typeof parametersSchema>;

export class StackParametersError extends Error {
  override name = 'StackParametersError';
}

/** The `ftpx` context key (an object) validated, with every default filled in. */
export function parseParameters(value: unknown): StackParameters {
  const parsed = parametersSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ftpx.${issue.path.join('.')}: ${issue.message}`);
    throw new StackParametersError(`invalid CDK context "ftpx":\n${lines.join('\n')}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
