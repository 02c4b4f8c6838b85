import {
  type CredentialSource,
  createSignedJsonClient,
  environmentRegion,
  serviceEndpoint,
} from '../aws/signed-json.ts';

/**
 * The RDS Data API's wire types and the four calls the adapter makes (restJson1: `POST /Execute`
 * and friends, JSON in and out), over the small signed JSON
 * client in shared/aws. The adapter depends on {@link DataApiClient} only, so tests can wrap or
 * replace it and the retry policy stays in the adapter.
 */

/** A `records` field: exactly one member is set. `blobValue` is base64 on the wire. */
export interface Field {
  readonly isNull?: boolean;
  readonly booleanValue?: boolean;
  readonly longValue?: number;
  readonly doubleValue?: number;
  readonly stringValue?: string;
  readonly blobValue?: string;
  readonly arrayValue?: ArrayValue;
}

export interface ArrayValue {
  readonly booleanValues?: readonly (boolean | null)[];
  readonly longValues?: readonly (number | null)[];
  readonly doubleValues?: readonly (number | null)[];
  readonly stringValues?: readonly (string | null)[];
  readonly arrayValues?: readonly ArrayValue[];
}

/** A named parameter; `typeHint` tells the service how to read a `stringValue`. */
export interface SqlParameter {
  readonly name: string;
  readonly value: Field;
  readonly typeHint?: 'JSON' | 'UUID' | 'TIMESTAMP' | 'DATE' | 'TIME' | 'DECIMAL';
}

/** Which cluster, through which secret (every call names both). */
export interface DataApiTarget {
  readonly resourceArn: string;
  readonly secretArn: string;
}

export interface ExecuteStatementInput extends DataApiTarget {
  readonly database?: string;
  readonly sql: string;
  readonly parameters?: readonly SqlParameter[];
  readonly transactionId?: string;
}

export interface ExecuteStatementOutput {
  readonly records?: readonly (readonly Field[])[];
  readonly numberOfRecordsUpdated?: number;
}

/** Per call: the caller's deadline, which ends the call with an `AbortError`. */
export interface DataApiCallOptions {
  readonly signal?: AbortSignal | undefined;
}

/** The calls the `data-api` adapter makes; errors are `AwsCallError`s (shared/aws). */
export interface DataApiClient {
  executeStatement(
    input: ExecuteStatementInput,
    options?: DataApiCallOptions,
  ): Promise<ExecuteStatementOutput>;
  beginTransaction(
    input: DataApiTarget & { readonly database?: string },
    options?: DataApiCallOptions,
  ): Promise<{ readonly transactionId?: string }>;
  commitTransaction(
    input: DataApiTarget & { readonly transactionId: string },
    options?: DataApiCallOptions,
  ): Promise<{ readonly transactionStatus?: string }>;
  rollbackTransaction(
    input: DataApiTarget & { readonly transactionId: string },
    options?: DataApiCallOptions,
  ): Promise<{ readonly transactionStatus?: string }>;
}

/** Above the Data API's own 45 s call limit, so a slow statement fails there, not here. */
export const DATA_API_REQUEST_TIMEOUT_MS = 60_000;

export interface DataApiClientOptions {
  /** @default `AWS_REGION` */
  readonly region?: string;
  /** @default `AWS_ENDPOINT_URL_RDS_DATA`, `AWS_ENDPOINT_URL`, then the regional endpoint */
  readonly endpoint?: string;
  /** @default the function's environment credentials */
  readonly credentials?: CredentialSource;
  /** Tests only: production keeps {@link DATA_API_REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs?: number;
}

/**
 * The Data API client. It sends each call once: resending a call that timed out could run a
 * statement that already committed, so what is safe to repeat is decided and retried by the
 * adapter (shared/db/data-api.ts).
 */
export function createDataApiClient(options: DataApiClientOptions = {}): DataApiClient {
  let http: ReturnType<typeof createSignedJsonClient> | undefined;
  // Region and endpoint are resolved on the first call, so building the adapter reads nothing.
  const client = () => {
    if (!http) {
      const region = options.region ?? environmentRegion();
      http = createSignedJsonClient({
        signingName: 'rds-data',
        region,
        endpoint: options.endpoint ?? serviceEndpoint('RDS Data', 'rds-data', region),
        requestTimeoutMs: options.requestTimeoutMs ?? DATA_API_REQUEST_TIMEOUT_MS,
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
    }
    return http;
  };
  const post = <T>(path: string, body: unknown, callOptions?: DataApiCallOptions) =>
    client().post({ path, body, signal: callOptions?.signal }) as Promise<T>;
  return {
    executeStatement: (input, callOptions) => post('/Execute', input, callOptions),
    beginTransaction: (input, callOptions) => post('/BeginTransaction', input, callOptions),
    commitTransaction: (input, callOptions) => post('/CommitTransaction', input, callOptions),
    rollbackTransaction: (input, callOptions) => post('/RollbackTransaction', input, callOptions),
  };
}
