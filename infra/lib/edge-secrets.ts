import { RemovalPolicy } from 'aws-cdk-lib';
import { Secret as EcsSecret } from 'aws-cdk-lib/aws-ecs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { StackParameters } from './parameters.js';

/**
 * The edge task's secrets, in AWS Secrets Manager, handed to the container as ECS secrets (the
 * execution role reads them when the task starts; they never appear in the template or the task
 * definition). Secrets Manager rather than SSM SecureString: CloudFormation can create a Secrets
 * Manager secret with a generated value (`GenerateSecretString`) and ECS can pick one JSON key out of
 * it, while an SSM SecureString parameter cannot be created by CloudFormation at all.
 *
 * The names of the environment variables are the container entrypoint's contract
 * (scripts/container-entrypoint.sh): it writes the certificate and the host key to files.
 */
export const SECRET_ENVIRONMENT = {
  adminToken: 'FTPX_ADMIN_TOKEN',
  sshHostKeySeed: 'FTPX_SSH_HOST_KEY_SEED',
  tlsCertificate: 'FTPX_TLS_CERTIFICATE',
  tlsPrivateKey: 'FTPX_TLS_PRIVATE_KEY',
} as const;

export interface EdgeSecretsProps {
  parameters: StackParameters;
}

export class EdgeSecrets extends Construct {
  /** Environment variable → ECS secret, for the container definition. */
  readonly containerSecrets: Record<string, EcsSecret> = {};
  readonly adminToken: ISecret;

  constructor(scope: Construct, id: string, props: EdgeSecretsProps) {
    super(scope, id);
    const { edge, name } = props.parameters;
    const wanted = edge.secrets;

    this.adminToken = wanted.adminToken
      ? this.existing('AdminToken', wanted.adminToken)
      : new Secret(this, 'AdminToken', {
          description: `${name}: bearer token of the edge workers' admin endpoint (/metrics, /status, drain)`,
          // `serve` wants at least 32 characters; letters and digits only, so it survives any quoting.
          generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
          removalPolicy: RemovalPolicy.DESTROY,
        });
    this.containerSecrets[SECRET_ENVIRONMENT.adminToken] = EcsSecret.fromSecretsManager(this.adminToken);

    if (edge.protocols.includes('sftp')) {
      // The SSH host key is derived from this seed in the container (scripts/ssh-host-key-from-seed.mjs):
      // Secrets Manager generates the seed once, when the secret is created; an update of the stack
      // leaves it alone, so clients never see the proxy's host key change. Retained with the stack's
      // deletion too, so a re-created stack can name it (edge.secrets.sshHostKeySeed) and keep the key.
      const seed = wanted.sshHostKeySeed
        ? this.existing('SshHostKeySeed', wanted.sshHostKeySeed)
        : new Secret(this, 'SshHostKeySeed', {
            description: `${name}: seed of the SFTP listener's Ed25519 host key (never rotate by accident: clients pin it)`,
            generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
            removalPolicy: RemovalPolicy.RETAIN,
          });
      this.containerSecrets[SECRET_ENVIRONMENT.sshHostKeySeed] = EcsSecret.fromSecretsManager(seed);
    }

    if (wanted.tlsCertificate) {
      const certificate = this.existing('TlsCertificate', wanted.tlsCertificate);
      this.containerSecrets[SECRET_ENVIRONMENT.tlsCertificate] = EcsSecret.fromSecretsManager(
        certificate,
        'certificate',
      );
      this.containerSecrets[SECRET_ENVIRONMENT.tlsPrivateKey] = EcsSecret.fromSecretsManager(
        certificate,
        'privateKey',
      );
    }
  }

  private existing(id: string, nameOrArn: string): ISecret {
    return nameOrArn.startsWith('arn:')
      ? Secret.fromSecretCompleteArn(this, id, nameOrArn)
      : Secret.fromSecretNameV2(this, id, nameOrArn);
  }
}
