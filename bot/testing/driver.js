'use strict';
// The JavaScript test driver. It runs INSIDE the sandbox (Node's standard library only), never in
// the bot. The harness (bot/testing/harness.py) sends this file followed by `main(<payload JSON>)`.
//
// For each test file it writes a runner: one line of imports, the answer's code, then the tests
// (in a block of their own for CommonJS, so they may declare names the code declares too). A test
// file that calls test()/it()/describe() runs as written; otherwise each top-level `assert…`
// statement becomes one test. Node's own runner (node:test `run`) runs the files in a child
// process and reports each test; the code's output arrives as events and never reaches stdout.
// Results are JSON events on stdout prefixed with the run's nonce (plan, case, fatal, done), as in
// driver_py.py. A test file that is gone or changed after the run is reported as tampered.

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const vm = require('node:vm');
const { spawnSync } = require('node:child_process');
const { run } = require('node:test');

const DETAIL = 1500;
const TAIL = 2000;
const NODE_TEST = /(?<![\w.$])(test|it|describe|suite)\s*\(|['"]node:test['"]/;

function short(text, limit = 100) {
  const one = String(text).split(/\s+/).join(' ').trim();
  return one.length <= limit ? one : one.slice(0, limit - 1) + '…';
}

function declares(name, source) {
  const n = name.replace(/\$/g, '\\$');
  return new RegExp(
    `\\b(?:const|let|var|function|class)\\s+${n}\\b|\\b(?:const|let|var)\\s*\\{[^}]*\\b${n}\\b[^}]*\\}\\s*=` +
    `|\\bimport\\s+${n}\\b|\\bimport\\s*\\{[^}]*\\b${n}\\b[^}]*\\}|\\bimport\\s*\\*\\s*as\\s+${n}\\b`,
  ).test(source);
}

function digest(file) {
  try {
    return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

function syntaxDetail(stderr) {
  const where = /:(\d+)\s*$/m.exec(stderr);
  const what = /^(SyntaxError[^\n]*)$/m.exec(stderr);
  return `${where ? `line ${where[1]}: ` : ''}${what ? what[1] : short(stderr, 300)}`;
}

// Each top-level `assert…` statement (with its indented continuation lines) becomes one test.
function wrapPlain(source) {
  const out = [];
  let current = null;
  source.split('\n').forEach((line, index) => {
    if (/^assert\b/.test(line)) {
      current = { line: index + 1, text: [line] };
      out.push(current);
    } else if (current && line.trim() && (/^\s/.test(line) || /^[)\]}.,]/.test(line))) {
      current.text.push(line);
    } else {
      current = null;
      out.push(line);
    }
  });
  const name = (item) => JSON.stringify(`line ${item.line}: ${short(item.text.join(' '))}`);
  return out.map((item) => (typeof item === 'string' ? item
    : `__codegenTest(${name(item)}, () => { ${item.text.join('\n')} });`)).join('\n');
}

function countPlain(source) {
  return source.split('\n').filter((line) => /^assert\b/.test(line)).length;
}

function prelude(esm, solution, tests, nodeStyle) {
  const seen = esm ? solution + '\n' + tests : solution;
  const names = nodeStyle ? ['test', 'it', 'describe'].filter((n) => !declares(n, seen)) : [];
  const needAssert = !declares('assert', seen);
  if (esm) {
    return [
      "import { test as __codegenTest } from 'node:test';",
      names.length ? `import { ${names.join(', ')} } from 'node:test';` : '',
      needAssert ? "import assert from 'node:assert';" : '',
      declares('require', seen) ? ''
        : "import { createRequire as __codegenRequire } from 'node:module'; const require = __codegenRequire(import.meta.url);",
    ].join(' ');
  }
  return [
    "const { test: __codegenTest } = require('node:test');",
    names.length ? `const { ${names.join(', ')} } = require('node:test');` : '',
    needAssert ? "const assert = require('node:assert');" : '',
  ].join(' ');
}

function main(payloadJson) {
  const payload = JSON.parse(payloadJson);
  let clean = true; // no check failed and nothing stopped the checks: the exit status is 0
  const emit = (event, fields = {}) => {
    if (event === 'fatal' || fields.outcome === 'fail' || fields.outcome === 'error') clean = false;
    fs.writeSync(1, `${payload.nonce} ${JSON.stringify({ event, ...fields })}\n`);
    return clean;
  };
  try {
    fs.unlinkSync(__filename); // the code has no business reading the nonce
  } catch { /* not ours to delete */ }
  const work = path.join(__dirname, 'work');
  fs.mkdirSync(work, { recursive: true });
  process.chdir(work);
  const ext = payload.esm ? '.mjs' : '.js';
  // A syntax check: CommonJS in this process (as Node wraps a module), ES modules by `node --check`.
  const check = (file) => {
    if (payload.esm) return spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
    try {
      vm.compileFunction(fs.readFileSync(file, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'],
        { filename: file });
      return { status: 0, stderr: '' };
    } catch (error) {
      return { status: 1, stderr: String(error && error.stack) };
    }
  };

  const solutionPath = path.join(work, `solution${ext}`);
  fs.writeFileSync(solutionPath, payload.solution);
  const tests = payload.tests;
  for (const test of tests) {
    const probe = path.join(work, `.check${ext}`);
    fs.writeFileSync(probe, test.source);
    const result = check(probe);
    fs.rmSync(probe, { force: true });
    if (result.status !== 0) {
      emit('fatal', { reason: 'tests_syntax', detail: `${test.name}, ${syntaxDetail(result.stderr)}` });
      return finish(emit, '');
    }
  }
  let total = 0;
  for (const test of tests) total += NODE_TEST.test(test.source) ? Math.max(1, (test.source.match(/(?<![\w.$])(test|it)\s*\(/g) || []).length) : countPlain(test.source);
  emit('plan', { total });
  const solutionCheck = check(solutionPath);
  if (solutionCheck.status !== 0) {
    emit('fatal', { reason: 'syntax', detail: syntaxDetail(solutionCheck.stderr) });
    return finish(emit, '');
  }

  const runners = [];
  const digests = new Map();
  const solutionLines = payload.solution.split('\n').length;
  tests.forEach((test, index) => {
    const nodeStyle = NODE_TEST.test(test.source);
    const body = nodeStyle ? test.source : wrapPlain(test.source);
    const wrapped = payload.esm ? body : `{\n${body}\n}`;
    const runner = path.join(work, `.run_${index}${ext}`);
    fs.writeFileSync(runner, `${prelude(payload.esm, payload.solution, test.source, nodeStyle)}\n${payload.solution}\n;\n${wrapped}\n`);
    const file = path.join(work, test.name);
    fs.writeFileSync(file, test.source);
    digests.set(file, digest(file));
    // runner line -> where it came from: 1 = imports, then the code, one separator line, the tests
    runners.push({ runner, name: test.name, testStart: 2 + solutionLines + 1 + (payload.esm ? 0 : 1), cases: 0 });
  });

  const locate = (text) => {
    const found = /\.run_(\d+)\.m?js:(\d+)/.exec(String(text || ''));
    if (!found) return '';
    const info = runners[Number(found[1])];
    const line = Number(found[2]);
    if (line >= 2 && line < 2 + solutionLines) return ` (solution${ext}, line ${line - 1})`;
    if (info && line >= info.testStart) return ` (${info.name}, line ${line - info.testStart + 1})`;
    return '';
  };
  let output = '';
  let stderr = '';
  let current = 0;
  const stream = run({ files: runners.map((r) => r.runner), concurrency: 1 });
  stream.on('data', (event) => {
    const data = event.data || {};
    if (event.type === 'test:stdout' || event.type === 'test:stderr') {
      output = (output + (data.message || '')).slice(-TAIL);
      if (event.type === 'test:stderr') stderr = (stderr + (data.message || '')).slice(-8000);
      return;
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') return;
    if (data.details && data.details.type === 'suite') return;
    const fileIndex = runners.findIndex((r) => r.runner === data.name);
    if (fileIndex >= 0) { // the file itself: it failed outside any test when none of its tests ran
      if (event.type === 'test:fail' && runners[fileIndex].cases === 0) {
        const what = /^(\w*Error\b[^\n]*|\w+: [^\n]*)$/m.exec(stderr);
        emit('fatal', { reason: 'load', detail: short(`${what ? what[1] : 'the code failed when loaded'}${locate(stderr)}`, DETAIL) });
      }
      current = fileIndex + 1;
      stderr = '';
      return;
    }
    if (runners[current]) runners[current].cases += 1;
    if (event.type === 'test:pass') {
      emit('case', { name: data.name, outcome: data.skip || data.todo ? 'skip' : 'pass', detail: '', ms: (data.details || {}).duration_ms });
      return;
    }
    const error = (data.details || {}).error || {};
    const cause = error.cause || error;
    const assertion = cause && (cause.code === 'ERR_ASSERTION' || cause.name === 'AssertionError');
    const message = cause && cause.message !== undefined ? `${cause.name || 'Error'}: ${cause.message}` : String(cause);
    emit('case', {
      name: data.name,
      outcome: assertion ? 'fail' : 'error',
      detail: short(message + locate(cause && cause.stack), DETAIL),
      ms: (data.details || {}).duration_ms,
    });
  });
  stream.on('end', () => {
    for (const [file, before] of digests) {
      const now = digest(file);
      if (now !== before) {
        emit('fatal', { reason: 'tampered', detail: `the code ${now === null ? 'deleted' : 'changed'} ${path.basename(file)}` });
        break;
      }
    }
    finish(emit, output);
  });
}

function finish(emit, output) {
  process.exit(emit('done', { output }) ? 0 : 1);
}
