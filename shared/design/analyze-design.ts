import { compileSite } from './compile-site.ts';
import { type DesignDocument, ingestDesign } from './ingest-design.ts';
import type { YamlLimits } from './parse-yaml.ts';
import type { PlatformLists } from './rules/rule.ts';
import { buildSiteDesign, type SiteDesign } from './site-model.ts';
import { validateSite } from './validate-site.ts';
import {
  countErrors,
  RULE_PROCESSING,
  type ValidationMessage,
  type ValidationStatus,
  validationMessage,
  validationStatus,
} from './validation.ts';

/** Settings of one analysis: the time stamp of its messages, the YAML budget, platform lists. */
export type AnalysisSettings = { ts: string; limits?: YamlLimits; platform: PlatformLists };

/** Timings of one analysis, in milliseconds (the bench reports them). */
export type AnalysisTimings = { parse: number; compile: number; rules: number };

/** A design read, compiled and validated. */
export type DesignAnalysis = {
  documents: DesignDocument[];
  /** The effective site; null when the documents or the compilation failed (no rules ran). */
  site: SiteDesign | null;
  status: ValidationStatus;
  timings: AnalysisTimings;
};

/**
 * Drydock's `get_effective_site` followed by its `Validator`: ingest (DD001 schema and DD000
 * processing findings), build the site objects, compile the effective site, run the 18 rules.
 * As in Drydock, a design whose documents fail is not compiled and one that does not compile is
 * not checked by the rules; the Status says why. Throws only `DesignSyntaxError` (unreadable or
 * over-budget YAML).
 */
export function analyzeDesign(text: string, settings: AnalysisSettings): DesignAnalysis {
  const { ts } = settings;
  const started = performance.now();
  const ingested = ingestDesign(text, {
    ts,
    ...(settings.limits ? { limits: settings.limits } : {}),
  });
  const parsed = performance.now();
  const messages: ValidationMessage[] = [...ingested.messages];
  const timings = { parse: parsed - started, compile: 0, rules: 0 };
  const finish = (site: SiteDesign | null): DesignAnalysis => ({
    documents: ingested.documents,
    site,
    status: validationStatus(messages),
    timings,
  });
  if (countErrors(messages) > 0) return finish(null);

  const described = buildSiteDesign(ingested.documents);
  for (const problem of described.problems) {
    messages.push(
      validationMessage({
        name: RULE_PROCESSING,
        level: 'Error',
        message: problem.message,
        diagnostic:
          'Exception during document processing - see Drydock Troubleshooting Guide for DD000',
        documents: [problem.ref],
        ts,
      }),
    );
  }
  if (described.problems.length > 0) return finish(null);

  const compiled = compileSite(described.site);
  timings.compile = performance.now() - parsed;
  for (const problem of compiled.problems) {
    messages.push(
      validationMessage({
        name: RULE_PROCESSING,
        level: 'Error',
        message: `Error loading effective site: ${problem.message}`,
        diagnostic: 'The effective site could not be compiled; no validation rule ran.',
        documents: problem.ref.name ? [problem.ref] : [],
        ts,
      }),
    );
  }
  if (compiled.problems.length > 0) return finish(null);

  const rulesStarted = performance.now();
  messages.push(...validateSite({ site: compiled.site, platform: settings.platform }, ts));
  timings.rules = performance.now() - rulesStarted;
  return finish(compiled.site);
}
