import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { mayHoldKeyMaterial, redactSecretsInText, secretNameStrength } from '../../src/core/discovery/redact';
import { REPO_ROOT } from '../helpers';
import { mulberry32 } from '../../src/core/util/random';

/** [file path, text, the secret values planted in it, names that must survive]. */
type Case = [string, string, string[], string[]?];

// A 2048-bit-shaped key body: 25 lines of 64 base64 characters (seeded, deterministic).
function keyBody(seed: number, lines = 25): string[] {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const rand = mulberry32(seed);
  const next = () => Math.floor(rand() * 64);
  return Array.from({ length: lines }, () => Array.from({ length: 64 }, () => abc[next()]).join(''));
}

const KEY = keyBody(7);
const CASES: Case[] = [
  // env / shell
  ['.env.ci', 'DB_PASSWORD=envpw1\nexport API_TOKEN=envtok2\nSTRIPE_KEY=Zq8vK2mX9pL4wR7tY3nB\n', ['envpw1', 'envtok2', 'Zq8vK2mX9pL4wR7tY3nB'], ['DB_PASSWORD', 'API_TOKEN']],
  ['deploy.sh', 'export DB_PASS="shpw3"\nAWS_SECRET_ACCESS_KEY=shsecret4\nredis-cli -a x --pass shpw5\n', ['shpw3', 'shsecret4'], ['DB_PASS']],
  ['login.conf', 'login --user bob pass=confpw27\npass: confpw28\nexport pass=confpw29\n', ['confpw27', 'confpw28', 'confpw29']],
  ['Dockerfile', 'FROM node\nENV ADMIN_PASSWORD dockpw6\nARG NPM_TOKEN=docktok7\n', ['dockpw6', 'docktok7']],
  ['docker-compose.yml', 'services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-composepw8}\n      - MYSQL_ROOT_PASSWORD=composepw9\n', ['composepw8', 'composepw9']],
  // YAML / TOML / INI / properties / JSON
  ['config/app.yaml', 'database:\n  user: app\n  password: yamlpw10\n  api-key: "yamlkey11"\nsmtp:\n  auth_token: \'yamltok12\'\n', ['yamlpw10', 'yamlkey11', 'yamltok12'], ['password', 'api-key']],
  ['pyproject.toml', '[tool.x]\npassword = "tomlpw13"\nclient_secret = \'tomlsecret14\'\n', ['tomlpw13', 'tomlsecret14']],
  ['settings.ini', '[db]\npassword = ini pw 15\npwd: inipw16\n', ['ini pw 15', 'inipw16']],
  ['application.properties', 'spring.datasource.password=proppw17\nmail.smtp.password: proppw18\njwt.signing-key=propkey19\n', ['proppw17', 'proppw18', 'propkey19']],
  ['appsettings.json', '{\n  "Password": "jsonpw20",\n  "apiKey": "jsonkey21",\n  "ClientSecret": "jsonsecret22",\n  "max_tokens": 4096\n}\n', ['jsonpw20', 'jsonkey21', 'jsonsecret22'], ['max_tokens": 4096']],
  // XML
  ['web.config', '<appSettings>\n  <add key="ApiKey" value="xmlkey23"/>\n  <add key="Title" value="Home"/>\n</appSettings>\n<password>xmlpw24</password>\n<connectionStrings><add name="db" connectionString="Server=.;User Id=sa;Password=xmlconnpw25;"/></connectionStrings>\n', ['xmlkey23', 'xmlpw24', 'xmlconnpw25'], ['value="Home"']],
  ['settings.xml', '<server><id>repo</id><username>u</username><password>mavenpw26</password></server>\n', ['mavenpw26']],
  ['Info.plist', '<dict>\n  <key>APISecret</key>\n  <string>plistsecret27</string>\n</dict>\n', ['plistsecret27']],
  // code literals
  ['src/config.ts', 'export const apiKey = "tskey28";\nconst opts = { password: \'tspw29\', user: "bob" };\nconst token: string = "tstok30";\nconst key = process.env.OPENAI_API_KEY ?? "tsdefault31";\n', ['tskey28', 'tspw29', 'tstok30', 'tsdefault31'], ['user: "bob"']],
  ['src/db.js', 'const pool = new Pool({ connectionString: "postgres://app:jspw32@db:5432/app" });\nclient.auth("user", { password: `jspw33` });\n', ['jspw32', 'jspw33']],
  ['settings.py', 'SECRET_KEY = "django-insecure-pysecret34"\nDB = os.environ.get("DB_PASSWORD", "pydefault35")\nconnect(host="h", password="pykw36")\napi_token: str = "pyann37"\nTOKEN = os.getenv("TOKEN") or "pyor38"\n', ['pysecret34', 'pydefault35', 'pykw36', 'pyann37', 'pyor38'], ['SECRET_KEY', 'DB_PASSWORD']],
  ['main.go', 'const apiKey = "gokey39"\ncfg := Config{Password: "gopw40"}\ndbPassword := "gopw41"\n', ['gokey39', 'gopw40', 'gopw41']],
  ['Db.java', 'ds.setPassword("javapw42");\nprivate static final String SECRET = "javasecret43";\nprops.put("mail.password", "javapw44");\n', ['javapw42', 'javasecret43', 'javapw44']],
  ['Program.cs', 'private const string ClientSecret = "cssecret45";\nvar conn = "Data Source=x;Initial Catalog=y;User ID=sa;Pwd=cspw46;";\n', ['cssecret45', 'cspw46']],
  ['app.rb', 'config.password = "rubypw47"\nopts = { :secret => "rubysecret48", api_key: "rubykey49" }\n', ['rubypw47', 'rubysecret48', 'rubykey49']],
  ['wp-config.php', "<?php\ndefine('DB_PASSWORD', 'phppw50');\n$cfg = ['api_key' => 'phpkey51'];\n$password = 'phppw52';\n", ['phppw50', 'phpkey51', 'phppw52']],
  ['src/main.rs', 'let api_key: &str = "rustkey53";\nlet secret = String::from("x");\n', ['rustkey53']],
  ['build.gradle', "signingConfigs { release { storePassword 'gradlepw54'\n keyPassword \"gradlepw55\" } }\n", ['gradlepw54', 'gradlepw55']],
  ['init.sql', "CREATE USER app WITH PASSWORD 'sqlpw56';\nALTER USER x IDENTIFIED BY 'sqlpw57';\n", ['sqlpw56']],
  // URLs, query strings, headers
  ['notes.txt', 'cache: redis://:redispw58@cache:6379/0\nmongo: mongodb+srv://admin:mongopw59@cluster0.example.net/db\nhttps://api.example.com/v1?user=me&api_key=querykey60&token=querytok61\n', ['redispw58', 'mongopw59', 'querykey60', 'querytok61']],
  ['client.ts', 'fetch(url, { headers: { Authorization: "Bearer hdrTok62abcdef", "X-Api-Key": "hdrkey63" } });\nconst basic = "Basic dXNlcjpoZHJwdzY0";\n', ['hdrTok62abcdef', 'hdrkey63', 'dXNlcjpoZHJwdzY0']],
  ['README.md', 'Run `curl -H "Authorization: Bearer mdtok65xyz" -u admin:mdpw66 https://x`\n\n    DB_PASSWORD=mdpw67\n', ['mdtok65xyz', 'mdpw66', 'mdpw67']],
  ['api.http', 'GET /me\nAuthorization: Basic aHR0cHB3Njg=\nX-Auth-Token: httptok69\n', ['aHR0cHB3Njg=', 'httptok69']],
  // known token shapes in non-secret positions
  [
    'src/fixtures.ts',
    [
      'const a = ["AKIAABCDEFGHIJKLMNOP", "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "xoxb-123456789012-abcdefghijkl"];',
      'const b = ["sk_live_abcdefghijklmnop1234", "sk-proj-Abc123def456ghi789jkl012", "sk-ant-api03-abcdefghijklmnopqrstu"];',
      'const c = ["npm_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", "SG.abcdefghijklmnop.qrstuvwxyzABCDEFGH"];',
      'const d = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";',
      'const e = "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=' + 'Q'.repeat(86) + '==;EndpointSuffix=core.windows.net";',
      'const f = ["SK0123456789abcdef0123456789abcdef", "pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACKlszLCJhYmMiXQ"];',
    ].join('\n') + '\n',
    [
      'AKIAABCDEFGHIJKLMNOP', 'ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ', 'xoxb-123456789012-abcdefghijkl', 'sk_live_abcdefghijklmnop1234', 'sk-proj-Abc123def456ghi789jkl012',
      'sk-ant-api03-abcdefghijklmnopqrstu', 'npm_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ', 'AIzaSyA-abcdefghijklmnopqrstuvwxyz01234', 'SG.abcdefghijklmnop.qrstuvwxyzABCDEFGH',
      'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'Q'.repeat(86), 'SK0123456789abcdef0123456789abcdef', 'pypi-AgEIcHlwaS5vcmcCJDAwMDAw',
    ],
  ],
  // key material: PEM, quoted line lists, concatenated strings, one-line JSON, bare base64
  ['k1.pem.txt', `-----BEGIN RSA PRIVATE KEY-----\n${KEY.join('\n')}\n-----END RSA PRIVATE KEY-----\n`, KEY],
  ['k2.ts', `const KEY = [\n  "-----BEGIN PRIVATE KEY-----",\n${KEY.map((l) => `  "${l}",`).join('\n')}\n  "Ag==",\n  "-----END PRIVATE KEY-----",\n].join("\\n");\n`, [...KEY, 'Ag==']],
  ['k3.java', `String key = "-----BEGIN EC PRIVATE KEY-----\\n" +\n${KEY.map((l) => `    "${l}\\n" +`).join('\n')}\n    "-----END EC PRIVATE KEY-----";\n`, KEY],
  ['sa.json.txt', `{"private_key": "-----BEGIN PRIVATE KEY-----\\n${KEY.slice(0, 5).join('\\n')}\\n-----END PRIVATE KEY-----\\n"}\n`, KEY.slice(0, 5)],
  ['tail.txt', `${KEY.slice(10).join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`, KEY.slice(10)],
  ['blob.py', `KEY_B64 = (\n${KEY.slice(0, 6).map((l) => `    '${l}'`).join('\n')}\n)\n`, KEY.slice(0, 6)],
];

/** Ordinary code and config: must come back unchanged. */
const CLEAN: [string, string][] = [
  ['src/auth.ts', [
    'export function login(user: string, password: string): Promise<Session> {',
    '  if (typeof password !== "string" || password.length < 8) throw new Error("Password is required");',
    '  const token = await issueToken(user, { ttl: TOKEN_TTL });',
    '  this.token = token;',
    '  const apiKey = process.env.OPENAI_API_KEY;',
    '  const secret = config.get("jwt.secret");',
    '  const fields = ["username", "password", "email"];',
    '  const API_KEY_SECRET = "sift.llm.apiKey";',
    '  return { token, tokenType: "Bearer", expiresIn: 3600 };',
    '}',
    'type Token = "ident" | "number" | "string";',
    'const headers = { Authorization: `Bearer ${token}` };',
    'const url = `postgres://${user}:${password}@${host}/db`;',
    'let max_tokens = 256, password_min_length = 8;',
    'const pass = new RenderPass(scene, camera);',
    'const message = "Basic authentication is required";',
    'for (const key of Object.keys(map)) if (key === "id") continue;',
    'cache.set(key, value);',
    'const sortKey = "created_at";',
    '  return typeof v?.password === \'string\' && typeof cfg!.token === "string";',
    ' * Follows one folder\'s dense pass: `observe` every indexer event.',
  ].join('\n')],
  ['src/tokenizer.py', 'def tokenize(text, max_tokens=512):\n    tokens = text.split()\n    password = getpass.getpass("Password: ")\n    secret = os.environ["SECRET"]\n    return tokens[:max_tokens]\n'],
  ['config/app.yml', 'auth:\n  enabled: true\n  password:\n  token_url: https://auth.example.com/token\n  secret_name: prod/db\n  password_file: /run/secrets/db\n  api_key: ${API_KEY}\n  token: "{{ vault_token }}"\n'],
  ['docs/guide.md', 'The password must be at least 8 characters.\nUse a Bearer token in the Authorization header.\nSet `API_KEY` in your environment, e.g. `export API_KEY=<your key>`.\n'],
  ['src/Token.java', 'public final class Token {\n  private final String text;\n  Token nextToken = lexer.next();\n  public static Token of(String s) { return new Token(s); }\n}\n'],
];

void describe('redactSecretsInText', () => {
  void it('removes secret values in every syntax, keeps names and line numbers', () => {
    const leaked: string[] = [];
    for (const [file, text, secrets, keep = []] of CASES) {
      const { text: out } = redactSecretsInText(text, file);
      assert.equal(out.split('\n').length, text.split('\n').length, `${file}: line count changed`);
      for (const s of secrets) if (out.includes(s)) leaked.push(`${file}: ${s}`);
      for (const k of keep) assert.ok(out.includes(k), `${file}: lost ${k}\n${out}`);
    }
    assert.deepEqual(leaked, []);
  });

  void it('leaves ordinary code, config and docs unchanged', () => {
    for (const [file, text] of CLEAN) assert.equal(redactSecretsInText(text, file).text, text, file);
  });

  void it("finds nothing in Sift's own sources (outside the redactor's own examples)", () => {
    const changed: string[] = [];
    const root = path.join(REPO_ROOT, 'src');
    for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
      if (!e.isFile() || e.name === 'redact.ts') continue;
      const full = path.join(e.parentPath, e.name);
      const text = readFileSync(full, 'utf8');
      const out = redactSecretsInText(text, path.relative(REPO_ROOT, full)).text;
      if (out !== text) changed.push(path.relative(REPO_ROOT, full));
    }
    assert.deepEqual(changed, []);
  });

  void it('is linear: pathological inputs finish quickly', () => {
    const inputs = [
      'key'.repeat(300_000),
      'password='.repeat(100_000),
      'A1'.repeat(500_000),
      `${'A1'.repeat(32)}\n`.repeat(15_000),
      '"password": "'.repeat(70_000),
      'http://'.repeat(140_000),
      `${'a'.repeat(190)}://`.repeat(5000),
      'Bearer '.repeat(140_000),
      '-----BEGIN PRIVATE KEY-----\n'.repeat(35_000),
      'x;token=a'.repeat(110_000),
      `${'a'.repeat(1_000_000)}password="x"`,
    ];
    for (const t of inputs) {
      for (const file of ['a.ts', 'a.yml', 'a.md']) {
        const t0 = performance.now();
        const out = redactSecretsInText(t, file).text;
        const ms = performance.now() - t0;
        assert.equal(out.split('\n').length, t.split('\n').length);
        assert.ok(ms < 1500, `${file} ${JSON.stringify(t.slice(0, 20))}…: ${ms.toFixed(0)} ms`);
      }
    }
  });

  void it('classifies secret-like names', () => {
    for (const n of ['password', 'DB_PASSWORD', 'dbPassword', 'awsSecretAccessKey', 'client_secret', 'x-api-key', 'SECRET_KEY', 'api_key_b64', 'requirepass', 'AccountKey', 'passwd', 'auth_token', 'private-key', 'SENTRY_DSN']) {
      assert.equal(secretNameStrength(n), 'strong', n);
    }
    for (const n of ['stripe_key', 'auth', 'signature']) assert.equal(secretNameStrength(n), 'weak', n);
    for (const n of ['token_url', 'secretName', 'password_min_length', 'max_tokens', 'tokenizer', 'bypass', 'tokenType', 'passwordField']) assert.equal(secretNameStrength(n), undefined, n);
  });

  it('gates key-block redaction exactly as the regex it replaced', () => {
    // Seeded random texts of base64 runs around the 40-character threshold, separators, identifiers,
    // non-ASCII letters and the marker phrases (whole and cut short).
    const gate = /PRIVATE KEY|PuTTY-User-Key|[A-Za-z0-9+/]{40}/;
    const r = mulberry32(41);
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const bits = [' ', '\n', '=', '-', '_', '.', '"', 'é', '\u00a0', 'PRIVATE KEY', 'PRIVATE KE', 'PuTTY-User-Key', 'PuTTY-User', 'retryFailedUploads'];
    let gated = 0;
    for (let n = 0; n < 3000; n++) {
      let text = '';
      for (let k = Math.floor(r() * 12); k >= 0; k--) {
        if (r() < 0.5) text += bits[Math.floor(r() * bits.length)]!;
        else for (let len = 30 + Math.floor(r() * 15); len > 0; len--) text += abc[Math.floor(r() * abc.length)]!;
      }
      const want = gate.test(text);
      if (want) gated++;
      assert.equal(mayHoldKeyMaterial(text), want, JSON.stringify(text));
    }
    assert.ok(gated > 300 && gated < 2700, `both outcomes are exercised (${gated} of 3000 gated)`);
  });
});
