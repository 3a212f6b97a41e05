import { expect } from 'chai';
import { selectScenarios } from '../../bench/support/scenarios.js';

describe('bench scenario selection', () => {
  const all = ['find', 'get', 'floor'] as const;

  it('keeps every scenario when the variable is unset or blank', () => {
    expect([...selectScenarios('V', undefined, all)]).to.deep.equal(['find', 'get', 'floor']);
    expect([...selectScenarios('V', ' ', all)]).to.deep.equal(['find', 'get', 'floor']);
  });

  it('keeps the named scenarios in the suite order, whatever order they are named in', () => {
    expect([...selectScenarios('V', 'floor, find', all)]).to.deep.equal(['find', 'floor']);
  });

  it('refuses an unknown name, naming the variable, the name and the known scenarios', () => {
    expect(() => selectScenarios('BENCH_X', 'find,fnd', all)).to.throw("BENCH_X: unknown scenario 'fnd'; the scenarios are find, get, floor");
  });
});
