import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IndexStore } from '../../src/core/store/store';
import type { TeamRetrieval } from '../../src/core/team/session';
import { SETTINGS, type SettingKey } from '../../src/vscode/settingsSchema';
import { RETRY_AFTER_MS, TEAM_PASSWORD_SECRET, TeamIndex, type TeamSessionLike, storeTarget } from '../../src/vscode/teamIndex';
import { resolveSettings } from '../../src/vscode/trust';

const PASSWORD = 'pa:ss@w/rd-9f3k';

class FakeSecrets {
  readonly map = new Map<string, string>();
  get(k: string) {
    return Promise.resolve(this.map.get(k));
  }
  store(k: string, v: string) {
    this.map.set(k, v);
    return Promise.resolve();
  }
  delete(k: string) {
    this.map.delete(k);
    return Promise.resolve();
  }
}

/** A TeamIndex over fakes: what it opened (URLs), what it logged and showed, a clock and HEAD it controls. */
function harness(store: string) {
  const state = { store, head: 'h1', now: 1000, opened: [] as string[], closed: 0, fail: undefined as string | undefined, broken: undefined as string | undefined };
  const lines: string[] = [];
  const shown: string[] = [];
  const secrets = new FakeSecrets();
  const retrieval: TeamRetrieval = { overlay: { changed: new Set(['a.ts']), deleted: new Set() }, retrieve: () => Promise.reject(new Error('not called')) };
  const team = new TeamIndex({
    settings: () => ({ 'index.store': state.store }),
    secrets,
    log: { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) },
    warn: (m) => shown.push(m),
    head: () => Promise.resolve(state.head),
    now: () => state.now,
    open: (url): Promise<TeamSessionLike> => {
      state.opened.push(url);
      if (state.fail) return Promise.reject(new Error(state.fail));
      const head = state.head;
      return Promise.resolve({
        head,
        info: { commit: 'c0ffee1234567890' },
        get broken() {
          return state.broken;
        },
        retrieval: () => retrieval,
        close: () => {
          state.closed++;
          return Promise.resolve();
        },
      });
    },
  });
  return { team, state, lines, shown, secrets, retrieval };
}
const local = {} as IndexStore;

describe('sift.index.store: the team index setting in the editor', () => {
  it('is a user-only setting: a workspace value is refused and never used', () => {
    const inspect = (key: SettingKey) => ({
      defaultValue: SETTINGS[key].default,
      globalValue: key === 'index.store' ? 'postgres://me@db.internal:5432/sift' : undefined,
      workspaceValue: key === 'index.store' ? 'postgres://collector@evil.example:5432/x' : undefined,
    });
    const { settings, refused } = resolveSettings(inspect, (key) => inspect(key).workspaceValue ?? inspect(key).globalValue ?? SETTINGS[key].default);
    assert.equal(settings['index.store'], 'postgres://me@db.internal:5432/sift');
    assert.deepEqual(refused.map((r) => `${r.where}:${r.key}`), ['workspace:index.store']);
  });

  it('refuses a URL that carries a password, however it is spelled, without repeating the password', () => {
    for (const url of [`postgres://sift:${encodeURIComponent(PASSWORD)}@db:5432/sift`, 'postgresql://u:hunter2@db/sift', 'postgres://:hunter2@db/sift', 'POSTGRES://u:hunter2@db/sift?sslmode=require']) {
      const t = storeTarget(url);
      assert.ok(t && 'problem' in t, url);
      assert.match(t.problem, /contains a password.*Set Team Index Password/);
      assert.ok(!t.problem.includes('hunter2') && !t.problem.includes('pa%3Ass'), url);
    }
    for (const [url, why] of [['http://db:5432/sift', /must be a postgres:\/\/ URL/], ['not a url', /not a URL/], ['postgres:///sift', /names no host/]] as const) {
      const t = storeTarget(url);
      assert.ok(t && 'problem' in t && why.test(t.problem), url);
    }
    assert.equal(storeTarget('  '), undefined);
    assert.deepEqual(storeTarget('postgres://sift@db.internal:5432/sift?sslmode=verify-full'), { url: 'postgres://sift@db.internal:5432/sift?sslmode=verify-full', server: 'postgres://sift@db.internal:5432/sift' });
  });

  it('a password in the setting: warned once, never logged, never sent; questions answer locally with the reason', async () => {
    const h = harness('postgres://sift:hunter2@db:5432/sift');
    const r1 = await h.team.retrieval('/repo', local);
    const r2 = await h.team.retrieval('/repo', local);
    assert.match(r1?.problem ?? '', /contains a password/);
    assert.equal(r2?.problem, r1?.problem);
    assert.equal(h.shown.length, 1, 'shown once');
    assert.deepEqual(h.state.opened, [], 'nothing connects');
    assert.ok(![...h.lines, ...h.shown].some((l) => l.includes('hunter2')));
  });

  it('sends the stored password only to the server it was stored for', async () => {
    const h = harness('postgres://sift@db.internal:5432/sift?sslmode=require');
    await h.team.setPassword(PASSWORD);
    assert.equal(JSON.parse(h.secrets.map.get(TEAM_PASSWORD_SECRET)!).server, 'postgres://sift@db.internal:5432/sift');
    const r = await h.team.retrieval('/repo', local);
    assert.equal(r, h.retrieval, 'the team retrieval is used');
    const sent = new URL(h.state.opened[0]!);
    assert.equal(decodeURIComponent(sent.password), PASSWORD);
    assert.equal(sent.searchParams.get('sslmode'), 'require');

    // The setting now names another server: the password stays home and the user is told.
    h.state.store = 'postgres://sift@collector.example:5432/sift';
    await h.team.retrieval('/repo', local);
    assert.equal(new URL(h.state.opened[1]!).password, '');
    assert.match(h.shown.at(-1)!, /did not send the team index password to postgres:\/\/sift@collector\.example:5432\/sift: it was stored for postgres:\/\/sift@db\.internal:5432\/sift/);
    assert.ok(![...h.lines, ...h.shown].some((l) => l.includes(PASSWORD) || l.includes(encodeURIComponent(PASSWORD))), 'the password is never logged');
  });

  it('keeps one session while HEAD stays; reopens when HEAD moves, the URL changes or a query broke it', async () => {
    const h = harness('postgres://sift@db:5432/sift');
    await h.team.retrieval('/repo', local);
    await h.team.retrieval('/repo', local);
    assert.equal(h.state.opened.length, 1);
    h.state.head = 'h2';
    await h.team.retrieval('/repo', local);
    assert.equal(h.state.opened.length, 2);
    assert.equal(h.state.closed, 1);
    h.state.broken = 'The team index at postgres://sift@db:5432/sift is unavailable: Connection terminated unexpectedly.';
    await h.team.retrieval('/repo', local);
    assert.equal(h.state.opened.length, 3, 'a broken session is replaced on the next question');
  });

  it('an unreachable server: the local index answers with the reason; no retry for a while, then one', async () => {
    const h = harness('postgres://sift@db:5432/sift');
    h.state.fail = 'The team index at postgres://sift@db:5432/sift is unavailable: nothing is listening there (is the server running?).';
    const r = await h.team.retrieval('/repo', local);
    assert.equal(r?.problem, h.state.fail);
    assert.equal(r?.overlay, undefined);
    h.state.now += RETRY_AFTER_MS - 1;
    assert.equal((await h.team.retrieval('/repo', local))?.problem, h.state.fail);
    assert.equal(h.state.opened.length, 1, 'a down server does not cost every question a connection attempt');
    h.state.now += 2;
    h.state.fail = undefined;
    assert.equal(await h.team.retrieval('/repo', local), h.retrieval);
    assert.equal(h.state.opened.length, 2);
  });

  it('several folders: the local indexes answer, and the answer says why; no setting: nothing changes', async () => {
    const h = harness('postgres://sift@db:5432/sift');
    assert.match((await h.team.retrieval(undefined, local))?.problem ?? '', /single-folder workspace/);
    assert.equal(await harness('').team.retrieval('/repo', local), undefined);
  });
});
