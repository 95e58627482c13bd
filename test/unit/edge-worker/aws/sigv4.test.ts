import { describe, expect, it } from 'vitest';
import { signRequest } from '../../../../edge-worker/aws/sigv4.js';
import { referenceSign } from '../../../support/aws-reference-signer.js';

// AWS's Signature V4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html):
// these credentials, this date, region us-east-1, service "service".
const SUITE_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SUITE_DATE = new Date('2015-08-30T12:36:00Z');
const SUITE_SCOPE = { service: 'service', region: 'us-east-1' };

async function suiteAuthorization(method: string, url: string, body = ''): Promise<string> {
  const headers = await signRequest(
    { method, url, headers: { host: 'example.amazonaws.com' }, body },
    SUITE_SCOPE,
    SUITE_CREDENTIALS,
    SUITE_DATE,
  );
  expect(headers['x-amz-date']).toBe('20150830T123600Z');
  return headers.authorization as string;
}

const PREFIX =
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=';

describe('SigV4 against the AWS test suite', () => {
  it('get-vanilla', async () => {
    expect(await suiteAuthorization('GET', 'https://example.amazonaws.com/')).toBe(
      `${PREFIX}5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    );
  });

  it('post-vanilla', async () => {
    expect(await suiteAuthorization('POST', 'https://example.amazonaws.com/')).toBe(
      `${PREFIX}5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`,
    );
  });

  it('get-vanilla-query-order-key-case: parameters sorted by name', async () => {
    expect(
      await suiteAuthorization('GET', 'https://example.amazonaws.com/?Param2=value2&Param1=value1'),
    ).toBe(`${PREFIX}b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`);
  });

  it('post-vanilla-query', async () => {
    expect(await suiteAuthorization('POST', 'https://example.amazonaws.com/?Param1=value1')).toBe(
      `${PREFIX}28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11`,
    );
  });

  it('a different secret, date or body gives a different signature', async () => {
    const base = await suiteAuthorization('POST', 'https://example.amazonaws.com/');
    expect(await suiteAuthorization('POST', 'https://example.amazonaws.com/', '{}')).not.toBe(base);
    const otherSecret = (
      await signRequest(
        { method: 'POST', url: 'https://example.amazonaws.com/', headers: {}, body: '' },
        SUITE_SCOPE,
        { ...SUITE_CREDENTIALS, secretAccessKey: 'x' },
        SUITE_DATE,
      )
    ).authorization;
    expect(otherSecret).not.toBe(base);
  });
});

describe('SigV4 as handed to the signer, against the SDK signer given the request directly', () => {
  const credentials = {
    accessKeyId: 'ASIAEXAMPLEEXAMPLE',
    secretAccessKey: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0',
    sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes==',
  };
  const cases: {
    name: string;
    scope: { service: string; region: string };
    request: { method: string; url: string; headers: Record<string, string>; body: string };
  }[] = [
    {
      name: 'an edge call to API Gateway (execute-api, JSON body, session token)',
      scope: { service: 'execute-api', region: 'eu-west-1' },
      request: {
        method: 'POST',
        url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/resolve-backend',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-request-id': 'r-1' },
        body: JSON.stringify({ pool: 'main', policy: 'RoundRobin', backends: ['ftp://a:21'] }),
      },
    },
    {
      name: 'an EC2 query with encoded parameters',
      scope: { service: 'ec2', region: 'us-west-2' },
      request: {
        method: 'GET',
        url: 'https://ec2.us-west-2.amazonaws.com/?Action=DescribeNetworkInterfaces&Version=2016-11-15&Filter.1.Name=addresses.private-ip-address&Filter.1.Value.1=10.0.1.5',
        headers: {},
        body: '',
      },
    },
    {
      name: 'a port, blanks in header values and a path with a stage',
      scope: { service: 'execute-api', region: 'us-east-1' },
      request: {
        method: 'POST',
        url: 'http://127.0.0.1:8443/prod/v1/session-events',
        headers: { 'content-type': 'application/json;  charset=utf-8 ', 'X-Custom': ' a   b ' },
        body: '{"type":"heartbeat","workerId":"w","leases":[]}',
      },
    },
  ];
  for (const { name, scope, request } of cases) {
    it(name, async () => {
      const date = new Date('2026-11-21T08:00:00Z');
      const ours = await signRequest(request, scope, credentials, date);
      const theirs = await referenceSign(request, scope, credentials, date);
      expect(ours.authorization).toBe(theirs.authorization);
      expect(ours['x-amz-security-token']).toBe(credentials.sessionToken);
      expect(ours.authorization).toContain('x-amz-security-token');
    });
  }
});

describe('SigV4 headers the caller must not choose', () => {
  it('replaces a caller-set authorization and leaves user-agent unsigned', async () => {
    const headers = await signRequest(
      {
        method: 'post',
        url: 'https://abc.execute-api.eu-west-1.amazonaws.com/v1/x',
        headers: { Authorization: 'Bearer forged', 'User-Agent': 'ftpx', 'content-type': 'application/json' },
        body: '{}',
      },
      { service: 'execute-api', region: 'eu-west-1' },
      SUITE_CREDENTIALS,
      SUITE_DATE,
    );
    expect(Object.keys(headers).sort()).toEqual(['authorization', 'x-amz-date']);
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-west-1\/execute-api\//,
    );
    expect(headers.authorization).toContain('SignedHeaders=content-type;host;x-amz-date,');
  });
});
