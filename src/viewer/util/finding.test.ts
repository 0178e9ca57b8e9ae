import { describe, expect, it } from 'vitest';
import type { NodeAttribution } from '../../diagnose/index.ts';
import type { TensorMetrics, TopKAgreement } from '../../compare/index.ts';
import { findingText, largestOwnError, tensorOutputText, topKMeaningful } from './finding.ts';

function att(node: string, own: number | null): NodeAttribution {
  return { key: `${node}:0`, node, op: 'Op', outputIndex: 0, total: 0.1, own, inherited: null, ownShare: null, rmseOverScale: null } as unknown as NodeAttribution;
}

describe('one finding, two nodes (issue 12 item 7)', () => {
  it('names where the error enters and where the largest own error is', () => {
    const largest = largestOwnError([att('block_1_expand_relu', 2e-4), att('block_3_project_BN', 0.031), att('x', null)]);
    expect(largest).toEqual({ node: 'block_3_project_BN', own: 0.031 });
    expect(findingText('block_1_expand_relu', largest)).toBe(
      'error enters at block_1_expand_relu (first node beyond tolerance); largest own error at block_3_project_BN (replayed alone, own nrmse 0.0310)',
    );
  });
  it('says so when both are the same node, and copes with either missing', () => {
    expect(findingText('a', { node: 'a', own: 0.5 })).toBe('error enters at a (first node beyond tolerance); the same node has the largest own error (replayed alone, own nrmse 0.500)');
    expect(findingText('a', largestOwnError([att('a', null)]))).toBe('error enters at a (first node beyond tolerance)');
    expect(findingText(null, null)).toBe('');
  });
});

describe('outputs that are not class scores (issue 12 item 9)', () => {
  const entry = (label: string | null) => ({ index: 841, label, value: 1, probability: 0.134 });
  const t = (label: string | null): TopKAgreement => ({ k: 5, top1Equal: true, overlap: 5, edge: [entry(label)], ref: [entry(label)] }) as unknown as TopKAgreement;
  it('keeps top-k for a card that says class scores or labelled entries, not for a bare tensor', () => {
    expect(topKMeaningful(t(null), true)).toBe(true);
    expect(topKMeaningful(t('happy'), false)).toBe(true);
    expect(topKMeaningful(t(null), false)).toBe(false);
  });
  it('describes the output as a tensor', () => {
    const m = { cosine: 0.999987, nrmse: 0.0012 } as TensorMetrics;
    expect(tensorOutputText(m, true)).toBe('no labels: output compared as a tensor (cosine 0.99999, nrmse 1.2e-3)');
    expect(tensorOutputText(null, false)).toBe('output compared as a tensor');
  });
});
