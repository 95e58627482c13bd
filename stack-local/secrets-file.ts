import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type Cfn, StackLocalError } from './template.js';

/**
 * The local stand-in for Secrets Manager: a JSON file mapping a secret (its logical id for the
 * stack's own secrets, its name or ARN for secrets the template only names) to its value. A secret
 * the stack creates with GenerateSecretString is generated on the first run and kept in the file, as
 * Secrets Manager keeps it across deployments. A JSON-key reference (`ARN:key::`) reads that key of
 * the secret's JSON value.
 */
export class SecretsFile {
  private readonly values: Record<string, string>;

  constructor(private readonly path: string) {
    this.values = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : {};
  }

  /** A secret the stack creates: generated once when the file has none. */
  ensureGenerated(logicalId: string, properties: Cfn): void {
    if (this.values[logicalId] !== undefined) return;
    if (properties?.SecretString !== undefined) {
      this.values[logicalId] = String(properties.SecretString);
    } else {
      this.values[logicalId] = generate(properties?.GenerateSecretString ?? {});
    }
    writeFileSync(this.path, `${JSON.stringify(this.values, null, 2)}\n`, { mode: 0o600 });
  }

  /** An ECS secret's ValueFrom, resolved: a logical id (Ref), a name or ARN, or `ARN:jsonKey::`. */
  read(valueFrom: string): string {
    const jsonKey = /^(arn:[^:]*:secretsmanager:[^:]*:[^:]*:secret:[^:]+):([^:]+)::$/.exec(valueFrom);
    const id = jsonKey ? (jsonKey[1] as string) : valueFrom;
    const value = this.values[id] ?? this.values[nameOf(id)];
    if (value === undefined) {
      throw new StackLocalError(
        `the secret ${id} is not in the local secrets file ${this.path} (add it: {"${id}": "..."}; a JSON value for key references)`,
      );
    }
    if (!jsonKey) return value;
    const parsed = JSON.parse(value) as Record<string, unknown>;
    const field = parsed[jsonKey[2] as string];
    if (typeof field !== 'string') {
      throw new StackLocalError(`the secret ${id} in ${this.path} has no JSON key ${jsonKey[2]}`);
    }
    return field;
  }
}

/** The secret's name from an ARN (Secrets Manager appends six random characters to it). */
function nameOf(arnOrName: string): string {
  const match = /:secret:(.+?)(?:-[A-Za-z0-9]{6})?$/.exec(arnOrName);
  return match ? (match[1] as string) : arnOrName;
}

function generate(options: Cfn): string {
  const length = Number(options.PasswordLength ?? 32);
  let alphabet = '';
  if (!options.ExcludeLowercase) alphabet += 'abcdefghijklmnopqrstuvwxyz';
  if (!options.ExcludeUppercase) alphabet += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  if (!options.ExcludeNumbers) alphabet += '0123456789';
  if (!options.ExcludePunctuation) alphabet += '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
  if (options.IncludeSpace) alphabet += ' ';
  const excluded = new Set(String(options.ExcludeCharacters ?? ''));
  alphabet = [...alphabet].filter((char) => !excluded.has(char)).join('');
  if (options.GenerateStringKey !== undefined || options.SecretStringTemplate !== undefined) {
    throw new StackLocalError(
      'GenerateSecretString with SecretStringTemplate is not understood by the local stack',
    );
  }
  let value = '';
  for (let i = 0; i < length; i++) value += alphabet[randomInt(alphabet.length)];
  return value;
}
