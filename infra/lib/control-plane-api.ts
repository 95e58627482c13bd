import { Stack } from 'aws-cdk-lib';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpStage,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import type { FunctionRoute, FunctionSpec, RouteAuth } from './functions.js';
import type { StackParameters } from './parameters.js';

export interface ControlPlaneApiProps {
  functions: readonly FunctionSpec[];
  handlers: ReadonlyMap<string, NodejsFunction>;
  parameters: StackParameters;
}

/**
 * The HTTP API in front of the functions: edge routes behind IAM (edge workers sign with SigV4),
 * the registration API behind IAM or a JWT authoriser, throttled stage-wide.
 */
export class ControlPlaneApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** The edge routes, for the edge task role's `execute-api:Invoke`. */
  readonly edgeRoutes: FunctionRoute[] = [];

  constructor(scope: Construct, id: string, props: ControlPlaneApiProps) {
    super(scope, id);
    const { parameters } = props;
    this.api = new HttpApi(this, 'Api', {
      apiName: `${parameters.name}-control-plane`,
      description: 'ftpx control plane: edge routes (IAM) and the registration API',
      createDefaultStage: false,
    });
    this.stage = this.api.addStage('Stage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: parameters.api.throttle,
    });

    const authorizers: Record<RouteAuth, IHttpRouteAuthorizer> = {
      edge: new HttpIamAuthorizer(),
      registry: registryAuthorizer(parameters),
      public: new HttpNoneAuthorizer(),
    };
    for (const spec of props.functions) {
      if (spec.routes.length === 0) continue;
      const fn = props.handlers.get(spec.name);
      if (!fn) throw new Error(`function ${spec.name} has routes but was not created`);
      const integration = new HttpLambdaIntegration(`${spec.name}-integration`, fn);
      for (const route of spec.routes) {
        this.api.addRoutes({
          path: route.path,
          methods: [HttpMethod[route.method]],
          integration,
          authorizer: authorizers[route.auth],
        });
        if (route.auth === 'edge') this.edgeRoutes.push(route);
      }
    }
  }

  /** The ARNs `execute-api:Invoke` needs for the edge routes (method and path, this stage). */
  edgeRouteArns(): string[] {
    return this.edgeRoutes.map((route) =>
      Stack.of(this).formatArn({
        service: 'execute-api',
        resource: this.api.apiId,
        resourceName: `${this.stage.stageName}/${route.method === 'ANY' ? '*' : route.method}${route.path}`,
      }),
    );
  }
}

function registryAuthorizer(parameters: StackParameters): IHttpRouteAuthorizer {
  if (parameters.api.registryAuth === 'iam') return new HttpIamAuthorizer();
  const jwt = parameters.api.jwt;
  if (!jwt) throw new Error('api.registryAuth is jwt but api.jwt is missing');
  return new HttpJwtAuthorizer('RegistryJwt', jwt.issuer, { jwtAudience: jwt.audience });
}
