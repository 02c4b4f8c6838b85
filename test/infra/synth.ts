/**
 * Synthesizes the real CDK app in-process, the way `cdk synth` does (cdk.json's context, the
 * cdk-nag validation plugin, the real entry files), without credentials or network, and offers
 * small readers over the resulting templates for the assertion tests.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, expect } from 'vitest';
import { addServiceStacks, type ServiceStacks } from '#infra/stacks/service-app.ts';

/** `cdk.json`, whose context (feature flags, defaults) every test app starts from. */
export const CDK_JSON = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
) as {
  app: string;
  context: Record<string, unknown>;
};

/** One synthesized stage. */
export interface SynthesizedStage extends ServiceStacks {
  readonly app: App;
  readonly assembly: CloudAssembly;
  readonly outdir: string;
  readonly statefulTemplate: Template;
  readonly statelessTemplate: Template;
  /** Removes the cloud assembly directory. */
  dispose(): void;
}

/** Options of {@link synthStage}. */
export interface SynthOptions {
  /**
   * Bundle the functions with esbuild (slow: one esbuild run per function). When false, CDK's
   * `aws:cdk:bundling-stacks` context skips bundling, as the CLI does for unselected stacks.
   */
  readonly bundle?: boolean;
  /** Extra context, as `-c key=value` would give it (strings). */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Runs after the stacks are built and before synthesis (e.g. to plant a bad resource). */
  readonly beforeSynth?: (stacks: ServiceStacks) => void;
}

/**
 * Builds and synthesizes `stage`. `app.synth()` runs the cdk-nag AwsSolutions plugin and throws
 * on any unacknowledged finding, so a successful return is the nag gate passing.
 */
export function synthStage(stage: string, options: SynthOptions = {}): SynthesizedStage {
  const outdir = mkdtempSync(join(tmpdir(), `drydock-cdk-${stage}-`));
  const app = new App({
    outdir,
    context: {
      ...CDK_JSON.context,
      stage,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  const stacks = addServiceStacks(app);
  options.beforeSynth?.(stacks);
  let assembly: CloudAssembly;
  try {
    assembly = app.synth();
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...stacks,
    app,
    assembly,
    outdir,
    statefulTemplate: Template.fromStack(stacks.stateful),
    statelessTemplate: Template.fromStack(stacks.stateless),
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/**
 * `stage` synthesized once for the calling test file (or `describe` block): before its first
 * test, its assembly removed after the last. The object reads through to that synthesis, so
 * it may be used only inside tests and hooks.
 */
export function synthesizedStage(stage: string, options: SynthOptions = {}): SynthesizedStage {
  let synthesized: SynthesizedStage | undefined;
  // A synthesis is a few seconds of CPU; bundling (`bundle: true`) is one esbuild run a function.
  beforeAll(() => {
    synthesized = synthStage(stage, options);
  }, 300_000);
  afterAll(() => synthesized?.dispose());
  return new Proxy({} as SynthesizedStage, {
    get(_, property) {
      if (!synthesized) throw new Error(`the ${stage} stage is read before it is synthesized`);
      return Reflect.get(synthesized, property);
    },
  });
}

/** A CloudFormation resource as it appears in a template. */
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** Every resource of `type` in a template, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, CfnResourceJson> {
  return template.findResources(type) as Record<string, CfnResourceJson>;
}

/** How many resources of each type a template has, asserted (`{ 'AWS::EC2::NatGateway': 0 }`). */
export function expectResourceCounts(
  template: Template,
  counts: Readonly<Record<string, number>>,
): void {
  for (const [type, count] of Object.entries(counts)) template.resourceCountIs(type, count);
}

/** The logical id of the one resource of `type` whose construct id (at the stack's top) is `id`. */
function logicalIdOf(template: Template, type: string, id: string): string {
  const ids = Object.keys(resourcesOf(template, type)).filter((logicalId) =>
    new RegExp(`^${id}[0-9A-F]{8}$`).test(logicalId),
  );
  if (ids.length !== 1) throw new Error(`expected one ${type} ${id}, found ${ids.join(', ')}`);
  return ids[0] as string;
}

/** The logical id of the service function whose construct id is `id` (e.g. `Tasks`). */
export function functionLogicalId(template: Template, id: string): string {
  return logicalIdOf(template, 'AWS::Lambda::Function', id);
}

/** The logical id of the REST API whose construct id is `id` (`Api`, `NodeApi`, `KeystoneApi`). */
export function restApiLogicalId(template: Template, id: string): string {
  return logicalIdOf(template, 'AWS::ApiGateway::RestApi', id);
}

/** The function resource of the service function whose construct id is `id`. */
export function functionResource(template: Template, id: string): CfnResourceJson {
  const resource = resourcesOf(template, 'AWS::Lambda::Function')[functionLogicalId(template, id)];
  if (!resource) throw new Error(`no function ${id}`);
  return resource;
}

/** The service's own functions (not CDK's providers), by logical id. */
export function serviceFunctions(template: Template): Record<string, CfnResourceJson> {
  return Object.fromEntries(
    Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).filter(([, fn]) => {
      const env = (fn.Properties?.Environment as { Variables?: Record<string, unknown> })
        ?.Variables;
      return env?.POWERTOOLS_SERVICE_NAME === 'drydock-statemgmt';
    }),
  );
}

/** Environment variables of a function resource. */
export function environmentOf(fn: CfnResourceJson): Record<string, unknown> {
  return (fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {};
}

/** Every IAM statement in a template (inline and managed policies), with its policy's id. */
export function statementsOf(
  template: Template,
): { policy: string; Effect: string; Action: string[]; Resource: unknown[] }[] {
  const policies = {
    ...resourcesOf(template, 'AWS::IAM::Policy'),
    ...resourcesOf(template, 'AWS::IAM::ManagedPolicy'),
  };
  return Object.entries(policies).flatMap(([policy, resource]) => {
    const document = resource.Properties?.PolicyDocument as {
      Statement: Record<string, unknown>[];
    };
    return document.Statement.map((statement) => ({
      policy,
      Effect: statement.Effect as string,
      Action: ([] as string[]).concat(statement.Action as string | string[]),
      Resource: ([] as unknown[]).concat(statement.Resource),
    }));
  });
}

/**
 * The API's methods as `METHOD /path`, with their authorization type and integration target,
 * rebuilt from the Resource parent chain; `restApi` (a logical id) picks one API of several.
 */
export function apiMethods(
  template: Template,
  restApi?: string,
): Map<
  string,
  { authorization: string; integrationUri: string; properties: Record<string, unknown> }
> {
  const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
  const pathOf = (ref: unknown): string => {
    if (typeof ref === 'object' && ref !== null && 'Fn::GetAtt' in ref) return '';
    const logicalId = (ref as { Ref: string }).Ref;
    const resource = resources[logicalId];
    if (!resource) throw new Error(`unknown API resource ${logicalId}`);
    const properties = resource.Properties as { ParentId: unknown; PathPart: string };
    return `${pathOf(properties.ParentId)}/${properties.PathPart}`;
  };
  const methods = new Map<
    string,
    { authorization: string; integrationUri: string; properties: Record<string, unknown> }
  >();
  for (const method of Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))) {
    const properties = method.Properties as Record<string, unknown>;
    if (restApi && (properties.RestApiId as { Ref?: string })?.Ref !== restApi) continue;
    const path = pathOf(properties.ResourceId) || '/';
    methods.set(`${properties.HttpMethod as string} ${path}`, {
      authorization: properties.AuthorizationType as string,
      integrationUri: JSON.stringify((properties.Integration as { Uri?: unknown })?.Uri ?? ''),
      properties,
    });
  }
  return methods;
}

/** One `Validations.acknowledge()` in the app: rule id, where, why. */
export interface Acknowledgement {
  readonly ruleId: string;
  readonly path: string;
  readonly reason: string;
}

/** Every acknowledgement recorded in the construct tree. */
export function acknowledgementsOf(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          // Plain ids are stored with the annotation namespace, which cdk-nag strips too.
          ruleId: id.replace(/^annotation::/i, ''),
          path: construct.node.path,
          reason,
        })),
      ),
  );
}

/**
 * What AwsSolutions would report if nothing were acknowledged: rule id → violating construct
 * paths. The pack's acknowledgement lookup is switched off on this one instance only.
 */
export function unacknowledgedFindings(root: IConstruct): Map<string, string[]> {
  const pack = new AwsSolutionsChecks(undefined, { verbose: false });
  (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  const report = pack.validateScope(root);
  return new Map(
    report.violations.map((violation) => [
      violation.ruleName,
      violation.violatingResources.map((resource) => resource.constructPath ?? ''),
    ]),
  );
}

/**
 * The service's AwsSolutions acknowledgements that silence no finding, or that an ancestor's
 * acknowledgement of the same rule already covers: each must go. (CDK records its own
 * `CloudFormation-Validate::` acknowledgements too; those are not ours.)
 */
export function unusedAcknowledgements(root: IConstruct): Acknowledgement[] {
  const findings = unacknowledgedFindings(root);
  const ours = acknowledgementsOf(root).filter((ack) => ack.ruleId.startsWith('AwsSolutions-'));
  const within = (path: string, scope: string) => path === scope || path.startsWith(`${scope}/`);
  return ours.filter(
    (ack) =>
      !(findings.get(ack.ruleId) ?? []).some((path) => within(path, ack.path)) ||
      ours.some(
        (other) =>
          other !== ack && other.ruleId === ack.ruleId && ack.path.startsWith(`${other.path}/`),
      ),
  );
}

/**
 * The nag gate's other half (`synthStage` threw on anything unacknowledged): no acknowledgement
 * silences nothing, and each AwsSolutions one says why in more than a few words. Returns them.
 */
export function expectEarnedAcknowledgements(root: IConstruct): Acknowledgement[] {
  expect(unusedAcknowledgements(root)).toEqual([]);
  const acks = acknowledgementsOf(root).filter((a) => a.ruleId.startsWith('AwsSolutions-'));
  for (const ack of acks) {
    expect(ack.reason.length, `${ack.ruleId} at ${ack.path}`).toBeGreaterThan(60);
  }
  return acks;
}
