import type { SiteDesign } from '../site-model.ts';
import type { DocumentReference, ValidationLevel } from '../validation.ts';

/** Allowed platform selections, from configuration (a live provisioner's lists, in Drydock). */
export type PlatformLists = {
  images: readonly string[] | null;
  kernels: readonly string[] | null;
};

/** What a rule sees: the compiled site and the settings a rule needs. */
export type RuleContext = { site: SiteDesign; platform: PlatformLists };

/** One finding of a rule, before the rule's name is put in front of the message. */
export type Finding = {
  level: ValidationLevel;
  message: string;
  documents: DocumentReference[];
  diagnostic: string;
};

/**
 * One of Drydock's orchestrator validation rules (`orchestrator/validations/*.py`): its code and
 * name are Drydock's (some codes are shared by two rules in Drydock, and kept so).
 */
export type Rule = {
  code: string;
  name: string;
  check(context: RuleContext): Finding[];
  /**
   * Whether a run without errors adds Drydock's "Validation successful." Info. Off for a run
   * that could not check (platform selection without allowed lists): that is not a pass.
   */
  confirms?: (context: RuleContext) => boolean;
};

/** Collects findings with Drydock's `report_error`, `report_warn` and `report_info`. */
export function findings() {
  const list: Finding[] = [];
  const add =
    (level: Finding['level']) =>
    (message: string, documents: DocumentReference[], diagnostic: string) => {
      list.push({ level, message, documents, diagnostic });
    };
  return { list, error: add('Error'), warn: add('Warning'), info: add('Info') };
}

/** The collector a rule reports its findings to. */
export type Findings = ReturnType<typeof findings>;

/**
 * A rule that looks at each node on its own, in the site's order (Drydock's rules that loop
 * over `baremetal_nodes`): `checkNode` reports what one node gets.
 */
export function nodeRule(
  code: string,
  name: string,
  checkNode: (node: SiteDesign['nodes'][number], f: Findings) => void,
): Rule {
  return {
    code,
    name,
    check({ site }) {
      const f = findings();
      for (const node of site.nodes) checkNode(node, f);
      return f.list;
    },
  };
}
