import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RerankHttpError, parseScores, rerankEndpoint } from '../../src/core/rerank/http';

describe('rerank wire format', () => {
  const server = 'http://h/rerank';

  it('reads relevance_score or score, in any order, one score per document', () => {
    assert.deepEqual(parseScores('{"results":[{"index":1,"relevance_score":0.9},{"index":0,"relevance_score":0.2}]}', 2, server), [0.2, 0.9]);
    assert.deepEqual(parseScores('{"results":[{"index":0,"score":-1.5},{"index":1,"score":3}]}', 2, server), [-1.5, 3]);
    assert.deepEqual(parseScores('{"data":[{"index":0,"relevance_score":1}]}', 1, server), [1]);
  });

  it('documents the server left out score below every scored one', () => {
    const s = parseScores('{"results":[{"index":2,"relevance_score":0.5},{"index":0,"relevance_score":0.7}]}', 4, server);
    assert.equal(s[0], 0.7);
    assert.equal(s[2], 0.5);
    assert.ok(s[1]! < 0.5 && s[3]! < 0.5);
  });

  it('rejects malformed answers with a message naming the server', () => {
    for (const [body, re] of [
      ['{"results":[{"index":0,"rel', /not JSON/],
      ['{"object":"list"}', /no "results" list/],
      ['{"results":[{"index":5,"relevance_score":1}]}', /document 5, but only 2 were sent/],
      ['{"results":[{"index":-1,"relevance_score":1}]}', /document -1/],
      ['{"results":[{"index":0.5,"relevance_score":1}]}', /document 0.5/],
      ['{"results":[{"index":0,"relevance_score":"high"}]}', /no numeric score/],
      ['{"results":[]}', /scored none of the 2/],
      ['null', /no "results" list/],
    ] as const) {
      assert.throws(() => parseScores(body, 2, server), (e: Error) => e instanceof RerankHttpError && re.test(e.message) && e.message.includes(server));
    }
  });

  it('builds {baseUrl}/rerank and refuses what is not http(s)', () => {
    assert.equal(rerankEndpoint('http://127.0.0.1:8080').href, 'http://127.0.0.1:8080/rerank');
    assert.equal(rerankEndpoint('https://api.example.com/v1/').href, 'https://api.example.com/v1/rerank');
    assert.equal(rerankEndpoint('https://api.example.com/v1?x=1#f').href, 'https://api.example.com/v1/rerank');
    assert.throws(() => rerankEndpoint('file:///etc/passwd'), /must be http or https/);
    assert.throws(() => rerankEndpoint('not a url'), /not a URL/);
  });
});
