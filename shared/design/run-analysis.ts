import { createHash } from 'node:crypto';
import { nodeTemplateContext, targetedBootActions } from '../bootactions/node-context.ts';
import { analyzeDesign } from './analyze-design.ts';
import type { AnalysisRequest, AnalysisResult } from './design-analyzer.ts';
import { NodeFilterProblem, selectNodes } from './node-filter.ts';
import { decodeDesign } from './parse-yaml.ts';

/** One analysis, synchronously: what both analyzers run. Throws `DesignSyntaxError`. */
export function runAnalysis(request: AnalysisRequest): AnalysisResult {
  const analysis = analyzeDesign(decodeDesign(request.bytes), request.settings);
  switch (request.kind) {
    case 'validate':
      return { kind: 'validate', status: analysis.status, timings: analysis.timings };
    case 'resolve': {
      const countsByKind: Record<string, number> = {};
      for (const doc of analysis.documents) {
        countsByKind[doc.kind] = (countsByKind[doc.kind] ?? 0) + 1;
      }
      const sha256 = createHash('sha256').update(request.bytes).digest('hex');
      const body = {
        ...request.head,
        sha256,
        counts_by_kind: countsByKind,
        documents: analysis.documents,
        validation: analysis.status,
      };
      return { kind: 'resolve', sha256, bodyJson: JSON.stringify(body) };
    }
    case 'nodes': {
      if (analysis.site === null) {
        return { kind: 'nodes', status: analysis.status, nodes: null, filterProblem: null };
      }
      try {
        const nodes = selectNodes(analysis.site, request.nodeFilter);
        return { kind: 'nodes', status: analysis.status, nodes, filterProblem: null };
      } catch (error) {
        if (!(error instanceof NodeFilterProblem)) throw error;
        return {
          kind: 'nodes',
          status: analysis.status,
          nodes: null,
          filterProblem: error.message,
        };
      }
    }
    case 'bootactions': {
      const site = analysis.site;
      return {
        kind: 'bootactions',
        status: analysis.status,
        compiled: site !== null,
        node: site === null ? null : nodeTemplateContext(site, request.nodeName),
        actions: site === null ? [] : targetedBootActions(site, request.nodeName),
      };
    }
  }
}
