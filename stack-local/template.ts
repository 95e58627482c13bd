import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A synthesized CloudFormation template (cdk.out/<Stack>.template.json) with its asset manifest, and
 * the intrinsic functions the local stack resolves. Anything it does not know fails by name.
 */

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation is untyped JSON
export type Cfn = any;

export interface CfnResource {
  Type: string;
  Properties?: Record<string, Cfn>;
  [key: string]: unknown;
}

export interface SynthesizedStack {
  dir: string;
  name: string;
  resources: Record<string, CfnResource>;
  outputs: Record<string, { Value: Cfn; Description?: string }>;
  /** Lambda code: the S3 object key → the asset directory in cdk.out. */
  fileAssets: Map<string, string>;
  /** Container images: the image tag → the asset's Dockerfile directory in cdk.out. */
  imageAssets: Map<string, { directory: string; dockerFile: string }>;
}

export class StackLocalError extends Error {
  override name = 'StackLocalError';
}

export function loadSynthesizedStack(cdkOut: string, stackName = 'Ftpx'): SynthesizedStack {
  const template = JSON.parse(readFileSync(join(cdkOut, `${stackName}.template.json`), 'utf8')) as Cfn;
  const assets = JSON.parse(readFileSync(join(cdkOut, `${stackName}.assets.json`), 'utf8')) as Cfn;
  const fileAssets = new Map<string, string>();
  for (const asset of Object.values(assets.files ?? {}) as Cfn[]) {
    for (const destination of Object.values(asset.destinations ?? {}) as Cfn[]) {
      if (asset.source?.packaging === 'zip' || asset.source?.packaging === undefined) {
        fileAssets.set(destination.objectKey, join(cdkOut, asset.source.path));
      }
    }
  }
  const imageAssets = new Map<string, { directory: string; dockerFile: string }>();
  for (const asset of Object.values(assets.dockerImages ?? {}) as Cfn[]) {
    for (const destination of Object.values(asset.destinations ?? {}) as Cfn[]) {
      imageAssets.set(destination.imageTag, {
        directory: join(cdkOut, asset.source.directory),
        dockerFile: asset.source.dockerFile ?? 'Dockerfile',
      });
    }
  }
  return {
    dir: cdkOut,
    name: stackName,
    resources: template.Resources ?? {},
    outputs: template.Outputs ?? {},
    fileAssets,
    imageAssets,
  };
}

/** What Ref and Fn::GetAtt give for each resource, locally (filled in as resources come up). */
export interface Attributes {
  ref(logicalId: string): string;
  getAtt(logicalId: string, attribute: string): string;
}

export const LOCAL_ACCOUNT = '000000000000';

export interface Pseudo {
  region: string;
  account: string;
  stackName: string;
}

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and the pseudo parameters. */
export function resolveValue(value: Cfn, attributes: Attributes, pseudo: Pseudo): Cfn {
  if (Array.isArray(value)) return value.map((item) => resolveValue(item, attributes, pseudo));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'Ref' || (keys[0] as string).startsWith('Fn::'))) {
    const key = keys[0] as string;
    const arg = value[key];
    switch (key) {
      case 'Ref':
        return pseudoParameter(arg, pseudo) ?? attributes.ref(arg);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        return attributes.getAtt(id, attribute);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg;
        return (resolveValue(parts, attributes, pseudo) as string[]).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg;
        return (resolveValue(list, attributes, pseudo) as unknown[])[Number(index)];
      }
      case 'Fn::Sub': {
        const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
        return String(text).replace(/\$\{([^}]+)\}/g, (_all, name: string) => {
          if (variables[name] !== undefined) return String(resolveValue(variables[name], attributes, pseudo));
          const direct = pseudoParameter(name, pseudo);
          if (direct !== undefined) return direct;
          const [id, attribute] = name.split('.');
          return attribute ? attributes.getAtt(id as string, attribute) : attributes.ref(id as string);
        });
      }
      default:
        throw new StackLocalError(`the local stack does not resolve the intrinsic function ${key}`);
    }
  }
  return Object.fromEntries(keys.map((key) => [key, resolveValue(value[key], attributes, pseudo)]));
}

function pseudoParameter(name: string, pseudo: Pseudo): string | undefined {
  switch (name) {
    case 'AWS::Region':
      return pseudo.region;
    case 'AWS::AccountId':
      return pseudo.account;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return pseudo.stackName;
    default:
      return undefined;
  }
}
