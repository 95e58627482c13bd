import { createRequire } from 'node:module';
import type * as Sdk from '@aws-sdk/client-dynamodb';

/**
 * The DynamoDB client classes the store uses, loaded on first use rather than with the store: the
 * SDK (its client, @smithy and credential providers, ~1 s of CPU and ~20 MiB per process) is pulled
 * in by every module that reaches the store's index, including edge workers whose control plane is
 * remote and never open a store. Each export is the SDK's own class behind a proxy: `new`,
 * `instanceof` and static members reach the real class, loaded synchronously (the SDK ships
 * CommonJS, the same instance an `import` of it gets).
 */
const nodeRequire = createRequire(import.meta.url);
let sdk: typeof Sdk | undefined;
const load = (): typeof Sdk => {
  // A bundle (esbuild: the Lambda functions) defines `require` and bundles what a literal require()
  // names; Node's ESM has no `require`, and the module's own createRequire loads the SDK there.
  sdk ??= (
    typeof require === 'function'
      ? require('@aws-sdk/client-dynamodb')
      : nodeRequire('@aws-sdk/client-dynamodb')
  ) as typeof Sdk;
  return sdk;
};

function lazyClass<K extends keyof typeof Sdk>(name: K): (typeof Sdk)[K] {
  const real = () => load()[name] as unknown as new (...args: unknown[]) => object;
  return new Proxy(function lazy() {}, {
    construct: (_target, args) => new (real())(...args),
    get: (_target, property) => Reflect.get(real(), property),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  }) as unknown as (typeof Sdk)[K];
}

export const BatchGetItemCommand = lazyClass('BatchGetItemCommand');
export const CreateTableCommand = lazyClass('CreateTableCommand');
export const DeleteItemCommand = lazyClass('DeleteItemCommand');
export const DescribeTableCommand = lazyClass('DescribeTableCommand');
export const DynamoDBClient = lazyClass('DynamoDBClient');
export const GetItemCommand = lazyClass('GetItemCommand');
export const PutItemCommand = lazyClass('PutItemCommand');
export const QueryCommand = lazyClass('QueryCommand');
export const ResourceNotFoundException = lazyClass('ResourceNotFoundException');
export const ScanCommand = lazyClass('ScanCommand');
export const UpdateItemCommand = lazyClass('UpdateItemCommand');

// The instance types, under the same names as the values (as the SDK's classes are both).
export type BatchGetItemCommand = Sdk.BatchGetItemCommand;
export type CreateTableCommand = Sdk.CreateTableCommand;
export type DeleteItemCommand = Sdk.DeleteItemCommand;
export type DescribeTableCommand = Sdk.DescribeTableCommand;
export type DynamoDBClient = Sdk.DynamoDBClient;
export type GetItemCommand = Sdk.GetItemCommand;
export type PutItemCommand = Sdk.PutItemCommand;
export type QueryCommand = Sdk.QueryCommand;
export type ResourceNotFoundException = Sdk.ResourceNotFoundException;
export type ScanCommand = Sdk.ScanCommand;
export type UpdateItemCommand = Sdk.UpdateItemCommand;
