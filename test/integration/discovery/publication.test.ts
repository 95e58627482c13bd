import {
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoute53Publisher } from '../../../functions/core/registry/publication-route53.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import type { Table } from '../../../functions/core/store/table.js';
import { createRegistryHandler } from '../../../functions/registry/handler.js';
import { startDnsServer, type TestDnsServer } from '../../support/dns-server.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { startRoute53Server, type TestRoute53 } from '../../support/route53-server.js';
import { apiEvent } from '../registry/api-client.js';

const ADMIN = 'publication-admin-token-0123456789';

/**
 * Against LocalStack instead of the test-only server: AWS_ENDPOINT_URL (its edge URL) and
 * FTPX_TEST_LOCALSTACK_DNS (its DNS server, HOST:PORT, which serves its Route 53 zones) both set.
 */
const LOCALSTACK =
  process.env.AWS_ENDPOINT_URL && process.env.FTPX_TEST_LOCALSTACK_DNS
    ? { endpoint: process.env.AWS_ENDPOINT_URL, dns: process.env.FTPX_TEST_LOCALSTACK_DNS }
    : undefined;

/**
 * Route 53 publication end to end: the registry API (with the real @aws-sdk/client-route-53 client)
 * writes a registered backend's SRV and A records into a hosted zone of the test-only Route 53
 * server, which serves them over DNS; an edge worker whose pool lists only the SRV name then sends
 * its sessions to that backend. Deregistering withdraws the records. With AWS_ENDPOINT_URL set to a
 * LocalStack, the publisher's SDK client talks to it instead (see docs/discovery-and-health.md).
 */
describe('Route 53 publication', () => {
  let dns: TestDnsServer | undefined;
  let route53: TestRoute53 | undefined;
  let client: Route53Client;
  let backend: FtpBackend;
  let proxy: TestProxy;
  let table: Table;
  let zoneId: string;
  let api: (
    method: string,
    path: string,
    json?: unknown,
  ) => Promise<{ status: number; body: Record<string, unknown> }>;

  beforeAll(async () => {
    if (!LOCALSTACK) {
      dns = await startDnsServer();
      route53 = await startRoute53Server(dns);
    }
    const endpoint = LOCALSTACK?.endpoint ?? (route53 as TestRoute53).endpoint;
    const dnsServer = LOCALSTACK?.dns ?? (dns as TestDnsServer).address;
    backend = await startFtpBackend('pure-ftpd', { name: 'published' });
    await writeHomeFile(backend, 'whoami.txt', backend.name);
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    client = new Route53Client({ region: 'us-east-1', endpoint, credentials });
    const zone = await client.send(
      new CreateHostedZoneCommand({ Name: 'edge.test', CallerReference: `ftpx-${Date.now()}` }),
    );
    zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    proxy = await startTestProxy({
      // The user name only: a URL password needs proxy authentication; clients send the password.
      backends: [`ftp+srv://${backend.user}@_ftp._tcp.pool.edge.test`],
      // Discovered targets are on loopback, which the destination policy refuses unless told.
      poolSettings: { allowDestinationNetworks: ['127.0.0.0/8'] },
      settings: { dns: { servers: [dnsServer], negativeTtl: '1s' } },
    });
    table = {
      client: createDynamoDbClient({ endpoint: proxy.worker.storeEndpoint as string, region: 'us-east-1' }),
      name: 'ftpx',
    };
    const handler = createRegistryHandler({
      table,
      bootstrapToken: ADMIN,
      log: () => {},
      publisher: createRoute53Publisher({
        endpoint,
        pollMs: 50,
        waitMs: 5000,
        client: { credentials },
      }),
    });
    api = async (method, path, json) => {
      const reply = await handler(apiEvent(method, path, { token: ADMIN, ...(json ? { json } : {}) }), {
        awsRequestId: 'test',
        functionName: 'registry',
      } as Context);
      return { status: reply.statusCode ?? 0, body: JSON.parse(reply.body || 'null') };
    };
  });

  afterAll(async () => {
    await proxy?.close();
    table?.client.destroy();
    client?.destroy();
    await backend?.stop();
    await route53?.close();
    await dns?.close();
  });

  /** The zone's record sets under the pool's domain, through the real ListResourceRecordSets. */
  const zoneRecords = async () => {
    const page = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    return (page.ResourceRecordSets ?? [])
      .filter((set) => set.Name?.endsWith('pool.edge.test.'))
      .map((set) => ({
        name: set.Name,
        type: set.Type,
        ttl: set.TTL,
        values: (set.ResourceRecords ?? []).map((record) => record.Value),
      }));
  };

  const whoServes = async () => {
    const result = await curl([`ftp://anyone:${backend.password}@127.0.0.1:${proxy.port}/whoami.txt`]);
    return result.code === 0 ? result.stdout.toString('utf8') : `curl exit ${result.code}`;
  };

  // The registering pool ("origin") is not the proxy's ("test"): the proxy knows the backend only from DNS.
  it('registering a backend publishes its SRV record, which discovery then uses; deregistering withdraws it', async () => {
    expect(await whoServes()).toMatch(/^curl exit/);
    // Marked proxyAuth, so the registry takes a URL password (which must still never reach DNS).
    expect((await api('POST', '/v1/pools', { name: 'origin', proxyAuth: true })).status).toBe(201);
    const publication = await api('PUT', '/v1/pools/origin/publication', {
      hostedZoneId: zoneId,
      domain: 'pool.edge.test',
      ttl: 1,
      txt: true,
    });
    expect(publication).toMatchObject({ status: 200, body: { outcome: { status: 'unchanged' } } });
    const registered = await api('PUT', '/v1/pools/origin/backends/one', {
      url: `ftp://${backend.user}:${backend.password}@127.0.0.1:${backend.port}`,
      weight: 5,
    });
    expect(registered.status).toBe(201);
    expect(registered.body.publication).toMatchObject({ status: 'INSYNC', deleted: [] });
    const records = await zoneRecords();
    const srv = records.find((set) => set.type === 'SRV');
    expect(srv).toMatchObject({ name: '_ftp._tcp.pool.edge.test.', ttl: 1 });
    expect(srv?.values).toHaveLength(1);
    expect(srv?.values[0]).toMatch(
      new RegExp(`^10 5 ${backend.port} b-[0-9a-f]{12}\\.pool\\.edge\\.test\\.$`),
    );
    const target = (srv?.values[0] ?? '').split(' ')[3];
    expect(records).toContainEqual({ name: target, type: 'A', ttl: 1, values: ['127.0.0.1'] });
    // TXT values are quoted character-strings; the SDK XML-escaped the quotes on the wire.
    expect(records).toContainEqual({
      name: '_ftp.pool.edge.test.',
      type: 'TXT',
      ttl: 1,
      values: [`"ftp://127.0.0.1:${backend.port}"`],
    });
    // Never a credential in DNS.
    expect(JSON.stringify(records)).not.toContain(backend.password);
    // The proxy's earlier NXDOMAIN is cached for the negative TTL (1 s): within it, the new record.
    const published = Date.now();
    let served = '';
    while (served !== backend.name && Date.now() - published < 4000) served = await whoServes();
    expect(served).toBe(backend.name);
    expect(proxy.logs.filter((line) => line.msg === 'connected to backend').at(-1)).toMatchObject({
      backend: `ftp://127.0.0.1:${backend.port}`,
      source: 'dns:ftp+srv://_ftp._tcp.pool.edge.test:21 (config)',
    });

    // An unchanged re-publication writes nothing.
    const batches = route53?.changes.length;
    expect((await api('POST', '/v1/pools/origin/publication/sync')).body).toMatchObject({
      status: 'unchanged',
    });
    if (route53) expect(route53.changes).toHaveLength(batches as number);

    expect((await api('DELETE', '/v1/pools/origin/backends/one')).status).toBe(204);
    expect(await zoneRecords()).toEqual([]);
    if (route53) {
      expect(route53.changes.at(-1)?.actions.every((action) => action.startsWith('DELETE '))).toBe(true);
    }
  });

  it('a pool with a publication cannot be deleted before the publication; DELETE withdraws it', async () => {
    expect((await api('DELETE', '/v1/pools/origin')).status).toBe(409);
    const withdrawn = await api('DELETE', '/v1/pools/origin/publication');
    expect(withdrawn).toMatchObject({ status: 200, body: { status: 'unchanged' } });
    expect((await api('GET', '/v1/pools/origin/publication')).status).toBe(404);
    expect((await api('DELETE', '/v1/pools/origin')).status).toBe(204);
  });
});
