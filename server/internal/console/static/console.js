// rootwalk console: the Trace, Live and Cache views of the admin API.
// Plain script, no dependencies. The drawing code is made of pure
// functions (trace JSON in, SVG markup out) so that node can test it; the
// DOM part at the bottom runs only in a browser.
'use strict';

// ---------------------------------------------------------------- helpers

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ESCAPES[c]); }

// host drops the port of "1.2.3.4:53" or "[2001:db8::1]:53".
function host(addr) {
  if (!addr) return '';
  const m = /^\[(.*)\]:\d+$/.exec(addr);
  if (m) return m[1];
  const i = addr.lastIndexOf(':');
  return i > 0 && addr.indexOf(':') === i ? addr.slice(0, i) : addr;
}

function fmtRTT(ms) { return ms.toFixed(ms < 10 ? 2 : 0) + ' ms'; }
function fmtMS(ms) { return ms < 1 ? ms.toFixed(2) : ms.toFixed(1); }
function fmtNum(v, digits) {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  if (digits != null) return v.toFixed(digits);
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
}
function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }
function zoneName(z) { return z === '.' ? '. (root)' : z; }

// Rough text widths for layout: SVG text cannot be measured without a
// browser, so widths are estimated from character counts.
// The factors fit DejaVu, the widest of the usual system fonts.
const CHAR_MONO = 0.61, CHAR_SANS = 0.6;
function textW(s, size, mono, bold) { return String(s).length * size * (mono ? CHAR_MONO : CHAR_SANS) * (bold ? 1.07 : 1); }
// lineW is the width of a [text, class, size] line.
function lineW([t, cls, size]) { return textW(t, size, /\bmono\b/.test(cls), /\bb\b/.test(cls)); }
// wrap breaks text into lines of at most n characters, at spaces if it can.
function wrap(text, n) {
  const out = [];
  for (const word of String(text).split(' ')) {
    for (let w = word; w; w = w.slice(n)) {
      const piece = w.slice(0, n), last = out.length - 1;
      if (last >= 0 && out[last].length + 1 + piece.length <= n) out[last] += ' ' + piece; else out.push(piece);
    }
  }
  return out;
}
function clip(s, width, size) {
  const max = Math.max(4, Math.floor(width / (size * CHAR_SANS)));
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
// nsName takes the name out of a referral's "ns1.example.com. (192.0.2.1)".
function nsName(s) { const i = s.indexOf(' ('); return i > 0 ? s.slice(0, i) : s; }

// ------------------------------------------------------ trace: the steps

function outcomeLabel(r) {
  switch (r.outcome) {
    case 'referral': return 'referral → ' + (r.target || '?');
    case 'answer': return 'answer' + (/\baa\b/.test(r.flags || '') ? ' (authoritative)' : '');
    case 'nxdomain': return 'NXDOMAIN: no such name';
    case 'nodata': return 'NODATA: no such record';
    case 'lame': return 'lame (' + (r.rcode || '?') + ')';
    default: return (r.outcome || 'reply') + (r.rcode ? ' (' + r.rcode + ')' : '');
  }
}
// outcomeClass picks the colour of a reply arrow.
function outcomeClass(r) {
  if (!r || r.kind === 'error') return 'err';
  return { referral: 'ref', answer: 'ok', nxdomain: 'neg', nodata: 'neg' }[r.outcome] || 'err';
}
// shortError sums up an exchange error for a label; the details keep it whole.
function shortError(e) {
  e = e || 'error';
  if (/timeout/i.test(e)) return 'timeout';
  if (/reset/i.test(e)) return 'connection reset';
  if (/refused/i.test(e)) return 'connection refused';
  return e.length > 40 ? e.slice(0, 39) + '…' : e;
}
function startFrom(target) {
  return { hints: 'root hints', cache: 'a cached delegation', stub: 'a stub zone', forward: 'a forward zone' }[target] || target || '?';
}
function isShared(s) { return s.target === 'shared cache'; }

// stepSummary is one line per step, for the numbered list.
function stepSummary(s) {
  const q = (s.name || '') + ' ' + (s.type || '');
  switch (s.kind) {
    case 'start': return q + ': start at ' + (s.zone === '.' ? 'the root' : s.zone) + ', its servers from ' + startFrom(s.target);
    case 'query': return 'ask ' + s.server + ' (' + host(s.addr) + ') about ' + q + (s.tcp ? ' over TCP' : '');
    case 'reply': return s.server + ' replied' + (s.rtt_ms ? ' in ' + fmtRTT(s.rtt_ms) : '') + (s.tcp ? ' over TCP' : '') + ': ' + outcomeLabel(s);
    case 'error': return '✗ ' + (s.server || '?') + ' (' + host(s.addr) + '): ' + s.error;
    case 'cache-hit': return q + ' answered from ' + (isShared(s) ? 'the shared cache (Redis)' : 'the cache') + (s.target && !isShared(s) ? ': ' + s.target : '');
    case 'restart': return '↪ ' + s.name + ' is an alias: continue at ' + s.target;
    case 'sub-resolve': return s.outcome === 'dnssec' ? '↳ DNSSEC: fetch ' + s.target + ' ' + s.type + ' for the chain of trust'
      : '↳ glueless: resolve ' + s.target + ' ' + s.type + ' first';
    case 'tcp-retry': return 'truncated over UDP: ask ' + (s.server || '?') + ' again over TCP';
    case 'skip': return 'skip ' + (s.target || '?') + (s.error ? ': ' + s.error : '');
    case 'local': return q + ' answered from the local zone ' + s.zone;
    case 'dnssec': return 'DNSSEC ' + (s.zone || '') + ' ' + (s.outcome || '') + ': ' + (s.target || '') + (s.error ? ' (' + s.error + ')' : '');
    default: return s.kind + ' ' + q;
  }
}

// pairSteps matches each reply or error with the query it answers: the
// latest open query of the same depth to the same address. A tcp-retry
// belongs to the query it repeats.
function pairSteps(steps) {
  const replyOf = {}, queryOf = {}, tcpOf = {}, open = {};
  steps.forEach((s, i) => {
    const list = open[s.depth] || (open[s.depth] = []);
    if (s.kind === 'query') { list.push(i); return; }
    if (s.kind !== 'reply' && s.kind !== 'error' && s.kind !== 'tcp-retry') return;
    let k = -1;
    for (let j = list.length - 1; j >= 0; j--) if (steps[list[j]].addr === s.addr) { k = j; break; }
    if (k < 0 && !s.addr) k = list.length - 1;
    if (k < 0) return;
    const q = list[k];
    if (s.kind === 'tcp-retry') { tcpOf[q] = i; queryOf[i] = q; return; }
    list.splice(k, 1);
    replyOf[q] = i; queryOf[i] = q;
  });
  return { replyOf, queryOf, tcpOf };
}

// hiddenSteps marks the DNSSEC chain-of-trust fetches (a dnssec
// sub-resolve and every deeper step after it) when they are collapsed.
function hiddenSteps(steps, showDnssec) {
  const hidden = steps.map(() => false);
  if (showDnssec) return hidden;
  let above = Infinity; // hide steps deeper than this
  steps.forEach((s, i) => {
    if (s.depth > above) { hidden[i] = true; return; }
    above = Infinity;
    if (s.kind === 'sub-resolve' && s.outcome === 'dnssec') { hidden[i] = true; above = s.depth; }
  });
  return hidden;
}

// buildRows turns the visible steps into the rows of the drawing, top to
// bottom in time order: an exchange (query + reply) is one row.
function buildRows(steps, showDnssec) {
  const { replyOf, queryOf, tcpOf } = pairSteps(steps);
  const hidden = hiddenSteps(steps, showDnssec);
  const rows = [];
  steps.forEach((s, i) => {
    if (hidden[i]) return;
    const d = s.depth || 0;
    switch (s.kind) {
      case 'query': {
        const r = replyOf[i] != null ? replyOf[i] : null;
        rows.push({ type: 'exchange', depth: d, q: i, r, step: r != null ? r : i, tcp: tcpOf[i] != null || (r != null && steps[r].tcp) });
        break;
      }
      case 'reply': case 'error':
        if (queryOf[i] == null) rows.push({ type: 'exchange', depth: d, q: null, r: i, step: i, tcp: !!s.tcp });
        break;
      case 'tcp-retry':
        if (queryOf[i] == null) rows.push({ type: 'note', depth: d, step: i });
        break;
      case 'start': if (d === 0) rows.push({ type: 'start', depth: d, step: i }); break;
      case 'cache-hit': case 'local': rows.push({ type: 'cache', depth: d, step: i }); break;
      case 'restart': rows.push({ type: 'restart', depth: d, step: i }); break;
      case 'sub-resolve': rows.push({ type: 'sub', depth: d, step: i }); break;
      case 'dnssec': rows.push({ type: 'dnssec', depth: d, step: i }); break;
      default: rows.push({ type: 'note', depth: d, step: i });
    }
  });
  return { rows, hidden };
}

// serverColumns gives each server asked (by name and address) a column:
// first those of the client's own walk (depth 0) in the order first asked,
// which is root, TLD, then the zone's own servers; then those asked only
// in sub-resolutions ("side" servers), also in the order first asked.
function serverColumns(steps, rows) {
  const cols = [], byKey = {};
  const zoneNS = {}; // zone → its servers' names, from the referrals
  steps.forEach((s) => {
    if (s.kind === 'reply' && s.outcome === 'referral' && s.servers) zoneNS[s.target] = s.servers.map(nsName);
  });
  for (const pass of [0, 1]) {
    for (const row of rows) {
      if (row.type !== 'exchange' || (pass === 0) !== (row.depth === 0)) continue;
      const s = steps[row.q != null ? row.q : row.r];
      const key = (s.server || '?') + ' ' + host(s.addr);
      let c = byKey[key];
      if (!c) {
        c = byKey[key] = { key, server: s.server || '?', addr: host(s.addr), zones: [], side: pass === 1, step: row.step };
        cols.push(c);
      }
      if (s.zone && !c.zones.includes(s.zone)) c.zones.push(s.zone);
      row.col = c;
    }
  }
  for (const c of cols) {
    const others = [];
    for (const z of c.zones) for (const n of zoneNS[z] || []) if (n !== c.server && !others.includes(n)) others.push(n);
    c.others = others;
  }
  return cols;
}

// Geometry of the drawing, in pixels.
const G = { margin: 16, top: 12, indent: 18, lineH: 15, minCol: 190, maxCol: 340 };

// boxLines is what a server box says, line by line: [text, class, size].
function boxLines(c) {
  const lines = [[c.server, 'mono b', 12], ['zone ' + c.zones.map(zoneName).join(', '), 'zone', 11], [c.addr, 'mono dim', 11]];
  const o = c.others;
  if (o.length) lines.push(['also: ' + o[0], 'mono dim', 10.5]);
  if (o.length > 1) lines.push(['      ' + o[1] + (o.length > 2 ? ' +' + (o.length - 2) : ''), 'mono dim', 10.5]);
  return lines;
}

// rowHeight is the height of each kind of row; sub-resolutions are smaller.
function rowHeight(row, steps) {
  const small = row.depth > 0;
  switch (row.type) {
    case 'exchange': return small ? 38 : 46;
    case 'cache': return 24 + 14 * Math.max(0, Math.min(3, (steps[row.step].records || []).length) - 1);
    case 'restart': return 34;
    case 'sub': return 22;
    default: return small ? 18 : 20;
  }
}

// answerBlock is the end of the walk: the rcode, the records (or the
// error) and the DNSSEC verdict of the answer.
function answerBlock(trace) {
  const lines = [];
  const answer = (trace.answer || []).length ? trace.answer : answerFromMessage(trace);
  const n = answer.length;
  const what = n ? plural(n, 'record', 'records') : trace.rcode === 'NXDOMAIN' ? 'the name does not exist'
    : trace.rcode === 'NOERROR' ? 'NODATA: no records of that type' : 'no records';
  const head = (trace.rcode || '?') + (trace.error ? '' : ' · ' + what) +
    ' · ' + fmtMS(trace.duration_ms || 0) + ' ms, ' + plural(trace.upstream_queries || 0, 'upstream query', 'upstream queries');
  lines.push([head, 'b', 13]);
  for (const rr of answer) lines.push([rr, 'mono', 12]);
  for (const rr of trace.authority || []) lines.push([rr, 'mono dim', 11.5]);
  if (trace.error) {
    for (const e of wrap(trace.error, 100)) lines.push([e, 'mono errtext', 12]);
  }
  const verdicts = (trace.steps || []).filter((s) => s.kind === 'dnssec' && s.depth === 0 && /^answer:/.test(s.target || ''));
  if (verdicts.length) {
    const last = verdicts[verdicts.length - 1];
    const worst = verdicts.find((v) => v.outcome === 'bogus') || verdicts.find((v) => v.outcome === 'insecure') || last;
    const text = verdicts.every((v) => v.outcome === last.outcome) ? last.target
      : verdicts.map((v) => v.name + ' ' + v.outcome).join('; ');
    lines.push(['DNSSEC: ' + worst.outcome + ' (' + text + ')', 'dnssec-' + worst.outcome, 12]);
  }
  let cls = 'ok';
  if (trace.error || trace.rcode === 'SERVFAIL' || trace.rcode === 'REFUSED') cls = 'err';
  else if (trace.rcode !== 'NOERROR' || !n) cls = 'neg';
  return { lines, cls };
}

// answerFromMessage finds the records of the question's type in the last
// answer's message: the trace leaves DS, DNSKEY and such out of answer[].
function answerFromMessage(trace) {
  if (trace.error || trace.rcode !== 'NOERROR') return [];
  const last = (trace.steps || []).filter((s) => s.depth === 0 && s.message &&
    ((s.kind === 'reply' && s.outcome === 'answer') || s.kind === 'cache-hit')).pop();
  if (!last) return [];
  const m = /;; ANSWER SECTION:\n([\s\S]*?)(\n\n|$)/.exec(last.message);
  if (!m) return [];
  return m[1].split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length > 4 && f[3] === trace.type)
    .map((f) => [f[0], f[1], ...f.slice(3)].join(' '));
}

function svgText(x, y, text, cls, size, extra) {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" class="${cls}" font-size="${size}"${extra || ''}>${esc(text)}</text>`;
}

// drawTrace lays the trace out as a sequence diagram and returns the SVG.
//
// Layout: one column per server, its box at the top and a dashed lifeline
// down from it; the resolver is the leftmost column. Time runs downwards,
// one row per step worth drawing. An exchange row has two arrows: the
// query from the resolver's lifeline to the server's, and the reply back,
// coloured by its outcome. Sub-resolutions (glueless name servers, DNSSEC
// fetches) start their arrows from an indented branch line next to the
// resolver's, one indent per depth, in smaller type. Cache hits, CNAME
// restarts, DNSSEC verdicts and notes are text rows by the resolver. The
// answer box closes the resolver's lifeline at the bottom.
function drawTrace(trace, options) {
  const opts = Object.assign({ showDnssec: false, selected: null }, options || {});
  const steps = trace.steps || [];
  const { rows } = buildRows(steps, opts.showDnssec);
  const cols = serverColumns(steps, rows);
  const resolverLines = [['resolver', 'b', 12], ['rootwalk', 'zone', 11],
    [/cold/.test(trace.where || '') ? 'cold cache' : (trace.where ? 'with its cache' : ''), 'mono dim', 11]];

  // Column width: wide enough for the widest box line.
  let colW = G.minCol;
  for (const c of cols) for (const line of boxLines(c)) colW = Math.max(colW, lineW(line) + 30);
  colW = Math.min(colW, G.maxCol);
  const nLines = Math.max(3, ...cols.map((c) => boxLines(c).length));
  const boxH = 12 + nLines * G.lineH;
  const x0 = G.margin + colW / 2; // the resolver's lifeline
  cols.forEach((c, k) => { c.x = x0 + (k + 1) * colW; });
  let maxX = x0 + (cols.length + 0.5) * colW;

  const out = [];
  const y0 = G.top + boxH + 16;
  let y = y0;
  const branches = []; // open sub-resolution branches: {depth, y}
  const branchLines = [];
  const restartYs = []; // separators drawn across the final width
  const sel = (i) => (opts.selected === i ? ' selected' : '');

  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const s = steps[row.step];
    const h = rowHeight(row, steps);
    const d = row.depth;
    const small = d > 0;
    const fs = small ? 10 : 11;
    const lx = x0 + d * G.indent; // where this depth's arrows start
    // Close the branches this row is no longer inside.
    while (branches.length && branches[branches.length - 1].depth >= d) {
      const b = branches.pop();
      branchLines.push(`<line class="branch" x1="${b.x}" y1="${b.y}" x2="${b.x}" y2="${y - 4}"/>`);
    }
    const tx = lx + 8;
    let g = '';
    switch (row.type) {
      case 'exchange': {
        const q = row.q != null ? steps[row.q] : null, r = row.r != null ? steps[row.r] : null;
        const cls = outcomeClass(r);
        const sx = row.col.x, span = sx - lx - 12;
        const qy = y + (small ? 14 : 17), ry = y + (small ? 31 : 37);
        const asked = q || r;
        const qLabel = asked.name + ' ' + asked.type + ' ?';
        let rLabel = !r ? 'no reply' : r.kind === 'error' ? '✗ ' + shortError(r.error) : outcomeLabel(r);
        const title = stepSummary(asked) + (r ? '\n' + stepSummary(r) : '');
        g += `<rect class="hit" x="${lx - 4}" y="${y}" width="${sx - lx + 70}" height="${h}" rx="4"/>`;
        g += svgText((lx + sx) / 2, qy - 4, clip(qLabel, span, fs), 'lbl mono q', fs, ' text-anchor="middle"');
        g += `<line class="q" x1="${lx}" y1="${qy}" x2="${sx - 2}" y2="${qy}" marker-end="url(#ah-q)"/>`;
        if (r || !q) {
          const dash = cls === 'err' ? ' stroke-dasharray="6 4"' : '';
          g += svgText((lx + sx) / 2, ry - 4, clip(rLabel, span, fs), 'lbl ' + cls, fs, ' text-anchor="middle"');
          g += `<line class="r ${cls}" x1="${sx}" y1="${ry}" x2="${lx + 2}" y2="${ry}"${dash} marker-end="url(#ah-${cls})"/>`;
        } else {
          g += svgText(sx - 6, qy + 14, rLabel, 'lbl err', fs, ' text-anchor="end"');
        }
        const rtt = r && r.rtt_ms ? fmtRTT(r.rtt_ms) + (row.tcp ? ' TCP' : '') : (row.tcp ? 'TCP' : '');
        if (rtt) g += svgText(sx + 6, ry + 4, rtt, 'lbl rtt', fs);
        out.push(`<g class="arrow ${cls}${sel(row.step)}" data-step="${row.step}" tabindex="0"><title>${esc(title)}</title>${g}</g>`);
        break;
      }
      case 'cache': {
        const shared = isShared(s), local = s.kind === 'local';
        const badge = local ? 'local zone ' + (s.zone || '') : shared ? 'shared cache (Redis)' : 'cache';
        const bw = textW(badge, fs, false) + 14;
        const recs = (s.records || []).slice(0, 3);
        let text = s.name + ' ' + s.type + (s.target && !shared ? ' · ' + s.target : '');
        if (!recs.length) text += ' → ' + (s.rcode || 'answer');
        g += `<rect class="hit" x="${lx - 4}" y="${y}" width="${bw + 20 + textW(text, fs, true)}" height="${h}" rx="4"/>`;
        g += `<rect class="badge${shared ? ' shared' : ''}" x="${lx - 6}" y="${y + 4}" width="${bw}" height="16" rx="8"/>`;
        g += svgText(lx - 6 + bw / 2, y + 16, badge, 'badge-t', fs, ' text-anchor="middle"');
        const rx = lx + bw + 2;
        g += svgText(rx, y + 16, text + (recs.length ? ' →' : ''), 'lbl mono', fs);
        recs.forEach((rr, j) => {
          const ax = j === 0 ? rx + textW(text + ' → ', fs, true) : rx + 16;
          g += svgText(ax, y + 16 + j * 14, rr, 'lbl mono ok', fs);
          maxX = Math.max(maxX, ax + textW(rr, fs, true) + G.margin);
        });
        maxX = Math.max(maxX, rx + textW(text, fs, true) + G.margin);
        out.push(`<g class="cache-hit${sel(row.step)}" data-step="${row.step}" tabindex="0"><title>${esc(stepSummary(s))}</title>${g}</g>`);
        break;
      }
      case 'restart': {
        // A DNAME restart shows a DNAME record in the reply that caused it.
        let alias = 'CNAME';
        for (let j = row.step - 1; j >= 0; j--) {
          const p = steps[j];
          if (p.depth !== d || !['reply', 'cache-hit', 'local'].includes(p.kind)) continue;
          if ((p.records || []).some((rr) => / DNAME /.test(rr))) alias = 'DNAME';
          break;
        }
        const text = '↪ ' + alias + ' → ' + s.target + '   (' + s.name + ' is an alias: the walk starts again)';
        restartYs.push(y + 5);
        g += `<rect class="hit" x="${lx - 4}" y="${y + 8}" width="${textW(text, 12, false, true) + 16}" height="${h - 8}" rx="4"/>`;
        g += svgText(tx - 8, y + 25, text, 'lbl restart-t', 12);
        maxX = Math.max(maxX, tx + textW(text, 12, false, true) + G.margin);
        out.push(`<g class="restart${sel(row.step)}" data-step="${row.step}" tabindex="0"><title>${esc(stepSummary(s))}</title>${g}</g>`);
        break;
      }
      case 'sub': {
        const dnssec = s.outcome === 'dnssec';
        const text = dnssec ? '↳ DNSSEC: fetch ' + s.target + ' ' + s.type : '↳ glueless: resolve ' + s.target + ' ' + s.type + ' first';
        g += `<rect class="hit" x="${lx - 4}" y="${y}" width="${textW(text, fs + 1, false, true) + 16}" height="${h}" rx="4"/>`;
        g += svgText(tx - 4, y + 15, text, 'lbl sub-t' + (dnssec ? ' dnssec' : ''), fs + 1);
        maxX = Math.max(maxX, tx + textW(text, fs + 1, false, true) + G.margin);
        out.push(`<g class="subresolve${dnssec ? ' dnssec' : ' glueless'}${sel(row.step)}" data-step="${row.step}" tabindex="0"><title>${esc(stepSummary(s))}</title>${g}</g>`);
        branches.push({ depth: d, x: x0 + (d + 1) * G.indent - 8, y: y + h - 2 });
        break;
      }
      case 'dnssec': {
        const outcome = s.outcome || '?';
        const what = (/^answer:/.test(s.target || '') ? s.name + ' ' + s.type : zoneName(s.zone || '?')) + ' · ' + (s.target || '') + (s.error ? ' · ' + s.error : '');
        const pw = textW(outcome, fs - 1, false, true) + 12;
        g += `<rect class="hit" x="${lx - 4}" y="${y}" width="${pw + textW(what, fs, false) + 24}" height="${h}" rx="4"/>`;
        g += `<rect class="pill-${esc(outcome)}" x="${tx - 4}" y="${y + 3}" width="${pw}" height="14" rx="7"/>`;
        g += svgText(tx - 4 + pw / 2, y + 14, outcome, 'pill-t', fs - 1, ' text-anchor="middle"');
        g += svgText(tx + pw + 2, y + 14, what, 'lbl dnssec-t', fs);
        maxX = Math.max(maxX, tx + pw + textW(what, fs, false) + G.margin);
        out.push(`<g class="dnssec-verdict${sel(row.step)}" data-step="${row.step}" tabindex="0"><title>${esc(stepSummary(s))}</title>${g}</g>`);
        break;
      }
      default: { // start, skip, orphan tcp-retry, anything new
        const text = stepSummary(s);
        g += `<rect class="hit" x="${lx - 4}" y="${y}" width="${textW(text, fs, false) + 16}" height="${h}" rx="4"/>`;
        g += svgText(tx - 4, y + 14, text, 'lbl note' + (s.kind === 'start' ? ' start-t' : ''), fs);
        maxX = Math.max(maxX, tx + textW(text, fs, false) + G.margin);
        out.push(`<g class="step-note ${esc(s.kind)}${sel(row.step)}" data-step="${row.step}" tabindex="0">${g}</g>`);
      }
    }
    y += h;
  }
  while (branches.length) {
    const b = branches.pop();
    branchLines.push(`<line class="branch" x1="${b.x}" y1="${b.y}" x2="${b.x}" y2="${y - 4}"/>`);
  }

  // The answer at the end of the walk, below the resolver's lifeline.
  const ans = answerBlock(trace);
  const ay = y + 12;
  let aw = 0;
  for (const line of ans.lines) aw = Math.max(aw, lineW(line));
  aw += 28;
  const ah = 14 + ans.lines.length * 18;
  let a = `<rect x="${G.margin}" y="${ay}" width="${aw}" height="${ah}" rx="8"/>`;
  ans.lines.forEach(([t, cls, size], j) => { a += svgText(G.margin + 14, ay + 22 + j * 18, t, cls, size); });
  maxX = Math.max(maxX, G.margin + aw + G.margin);
  const height = ay + ah + G.margin;
  const width = Math.ceil(maxX);

  // Boxes and lifelines, drawn first so that arrows go over them.
  const boxes = [];
  const box = (x, lines, cls, attrs) => {
    let b = `<rect x="${x - colW / 2 + 8}" y="${G.top}" width="${colW - 16}" height="${boxH}" rx="6"/>`;
    lines.forEach(([t, c, size], j) => { b += svgText(x, G.top + 20 + j * G.lineH, t, c, size, ' text-anchor="middle"'); });
    boxes.push(`<line class="lifeline" x1="${x}" y1="${G.top + boxH}" x2="${x}" y2="${cls === 'resolver-box' ? ay : y}"/>`);
    boxes.push(`<g class="${cls}"${attrs}>${b}</g>`);
  };
  box(x0, resolverLines, 'resolver-box', '');
  for (const c of cols) {
    box(c.x, boxLines(c), 'server-box' + (c.side ? ' side' : '') + sel(c.step),
      ` data-server="${esc(c.server)}" data-zone="${esc(c.zones[0] || '')}" data-addr="${esc(c.addr)}" data-step="${c.step}" tabindex="0"`);
  }
  const seps = restartYs.map((ry) => `<line class="restart-line" x1="${G.margin}" y1="${ry}" x2="${width - G.margin}" y2="${ry}"/>`).join('');
  const defs = '<defs>' + ['q', 'ref', 'ok', 'neg', 'err'].map((k) =>
    `<marker id="ah-${k}" class="mk-${k}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>`).join('') + '</defs>';
  return `<svg id="trace-drawing" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc('Trace of ' + trace.name + ' ' + trace.type)}">` +
    defs + boxes.join('') + seps + branchLines.join('') + out.join('') +
    `<g id="trace-answer" class="answer ${ans.cls}" data-rcode="${esc(trace.rcode)}">${a}</g></svg>`;
}

// stepDetail is the text of the details panel for step i: its fields,
// the query and reply messages of its exchange, and for a server box
// (server given) what was asked of that server.
function stepDetail(trace, i, server) {
  const steps = trace.steps || [];
  const s = steps[i];
  if (!s) return '';
  const { replyOf, queryOf } = pairSteps(steps);
  const out = [];
  if (server) {
    out.push('server ' + server, '');
    steps.forEach((t, j) => {
      if ((t.kind === 'reply' || t.kind === 'error') && t.server + ' ' + host(t.addr) === server) {
        out.push('  #' + j + '  ' + t.name + ' ' + t.type + '  →  ' + (t.kind === 'error' ? '✗ ' + shortError(t.error) : outcomeLabel(t) + (t.rtt_ms ? ', ' + fmtRTT(t.rtt_ms) : '')));
      }
    });
    out.push('', '— first exchange —', '');
  }
  const pad = (k) => (k + '          ').slice(0, 10);
  out.push('#' + i + '  ' + s.kind + (s.depth ? '  (depth ' + s.depth + ')' : ''), stepSummary(s), '');
  if (s.name || s.type) out.push(pad('question') + s.name + ' ' + s.type);
  if (s.zone) out.push(pad('zone') + s.zone);
  if (s.server) out.push(pad('server') + s.server + (s.addr ? '  ' + s.addr : ''));
  else if (s.addr) out.push(pad('addr') + s.addr);
  if (s.rtt_ms) out.push(pad('rtt') + fmtRTT(s.rtt_ms) + (s.tcp ? ' over TCP' : ' over UDP'));
  else if (s.tcp) out.push(pad('transport') + 'TCP');
  if (s.outcome) out.push(pad('outcome') + s.outcome);
  if (s.target) out.push(pad('target') + s.target);
  if (s.rcode) out.push(pad('rcode') + s.rcode + (s.flags ? '   flags: ' + s.flags : ''));
  if (s.error) out.push(pad('error') + s.error);
  const q = s.kind === 'query' ? i : queryOf[i];
  const r = s.kind === 'query' ? replyOf[i] : (s.kind === 'reply' || s.kind === 'error' ? i : null);
  const messages = [];
  if (q != null && steps[q].message) messages.push(';; ── query sent (step #' + q + ') ──', steps[q].message.replace(/\n+$/, ''));
  if (r != null && steps[r].message) messages.push((messages.length ? '\n' : '') + ';; ── reply received (step #' + r + ') ──', steps[r].message.replace(/\n+$/, ''));
  if (r == null && q == null && s.message) messages.push(';; ── message ──', s.message.replace(/\n+$/, ''));
  const shown = r != null ? steps[r] : s;
  if (!messages.length || (r == null && !s.message)) {
    if (shown !== s && shown.kind === 'reply') out.push('', 'reply #' + r + ': ' + stepSummary(shown));
    if ((shown.records || []).length) out.push('', 'records', ...shown.records.map((x) => '  ' + x));
    if ((shown.servers || []).length) out.push('', 'servers', ...shown.servers.map((x) => '  ' + x));
  } else if (shown !== s) {
    out.push('', 'reply #' + r + ': ' + stepSummary(shown));
  }
  if (messages.length) out.push('', ...messages);
  return out.join('\n');
}

// traceStatus is the status line of a finished trace.
function traceStatus(trace) {
  return (trace.rcode || '?') + ' in ' + fmtMS(trace.duration_ms || 0) + ' ms, ' +
    plural(trace.upstream_queries || 0, 'upstream query', 'upstream queries');
}

// ------------------------------------------------------------ live charts

// niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// drawChart draws series of the last `span` samples (one a second, the
// newest at the right edge) as polylines; null values leave gaps.
function drawChart(series, options) {
  const o = Object.assign({ width: 560, height: 180, span: 120, unit: '' }, options || {});
  const L = 64, R = 12, T = 26, B = 24;
  const pw = o.width - L - R, ph = o.height - T - B;
  let top = 0;
  for (const s of series) for (const v of s.values) if (v != null && v > top) top = v;
  top = niceMax(top);
  const parts = [];
  parts.push(`<line class="axis" x1="${L}" y1="${T}" x2="${L}" y2="${T + ph}"/>`, `<line class="axis" x1="${L}" y1="${T + ph}" x2="${L + pw}" y2="${T + ph}"/>`);
  parts.push(`<line class="grid" x1="${L}" y1="${T}" x2="${L + pw}" y2="${T}"/>`, `<line class="grid" x1="${L}" y1="${T + ph / 2}" x2="${L + pw}" y2="${T + ph / 2}"/>`);
  parts.push(svgText(L - 6, T + 4, String(+top.toPrecision(3)) + (o.unit ? ' ' + o.unit : ''), 'ax-t ymax', 10, ' text-anchor="end"'));
  parts.push(svgText(L - 6, T + ph + 4, '0', 'ax-t', 10, ' text-anchor="end"'));
  parts.push(svgText(L, T + ph + 16, '−' + o.span + ' s', 'ax-t', 10), svgText(L + pw, T + ph + 16, 'now', 'ax-t', 10, ' text-anchor="end"'));
  const step = pw / (o.span - 1);
  series.forEach((s, k) => {
    const n = s.values.length;
    let seg = [];
    const flush = () => {
      if (seg.length === 1) parts.push(`<circle class="s-${s.cls}" cx="${seg[0][0]}" cy="${seg[0][1]}" r="1.8"/>`);
      else if (seg.length) parts.push(`<polyline class="line s-${s.cls}" points="${seg.map((p) => p.join(',')).join(' ')}"/>`);
      seg = [];
    };
    s.values.forEach((v, j) => {
      if (v == null) { flush(); return; }
      const x = L + pw - (n - 1 - j) * step;
      if (x < L - 0.5) return;
      seg.push([x.toFixed(1), (T + ph - Math.min(v, top) / top * ph).toFixed(1)]);
    });
    flush();
    // Legend, top right, right to left.
    const lx = L + pw - 100 * (series.length - k);
    parts.push(`<line class="s-${s.cls}" x1="${lx + 4}" y1="12" x2="${lx + 22}" y2="12"/>`, svgText(lx + 26, 16, s.name, 'legend-t', 11));
  });
  return parts.join('');
}

if (typeof module !== 'undefined') {
  module.exports = { esc, host, pairSteps, hiddenSteps, buildRows, serverColumns, drawTrace, stepDetail, stepSummary, traceStatus, drawChart, niceMax, answerBlock };
}

// ======================================================== the page itself

if (typeof document !== 'undefined') document.addEventListener('DOMContentLoaded', () => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; };
  const TOKEN_KEY = 'rootwalk-token';
  const tokenInput = $('admin-token');
  try { tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { /* storage off */ }
  $('token-form').addEventListener('submit', (e) => e.preventDefault()); // nothing to submit
  tokenInput.addEventListener('input', () => {
    tokenInput.classList.remove('attention');
    try { sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim()); } catch (e) { /* storage off */ }
  });

  // api calls the admin API and returns the JSON reply, or throws an Error
  // with a message for a person (and .status).
  async function api(method, path) {
    const headers = { 'X-Rootwalk-Console': '1', Accept: 'application/json' };
    const token = tokenInput.value.trim();
    if (token) headers.Authorization = 'Bearer ' + token;
    let res;
    try {
      res = await fetch(path, { method, headers, cache: 'no-store', credentials: 'same-origin' });
    } catch (e) {
      throw Object.assign(new Error('cannot reach the admin API: ' + e.message), { status: 0 });
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { /* plain text */ }
    if (res.ok) return data;
    if (res.status === 401) {
      tokenInput.classList.add('attention');
      throw Object.assign(new Error('401 unauthorized: enter the admin token in the "token" field at the top right'), { status: 401, data });
    }
    const msg = (data && data.error) || text.trim() || res.statusText;
    throw Object.assign(new Error(res.status + ': ' + msg), { status: res.status, data });
  }
  function setStatus(el, text, state) {
    el.textContent = text;
    if (state) el.setAttribute('data-state', state); else el.removeAttribute('data-state');
  }

  // ---- tabs and deep links (#trace?name=…, #live, #cache?name=…)
  const views = ['trace', 'live', 'cache'];
  let current = null;
  function show(view, updateHash) {
    if (!views.includes(view)) view = 'trace';
    current = view;
    for (const v of views) {
      $('view-' + v).hidden = v !== view;
      $('tab-' + v).setAttribute('aria-selected', String(v === view));
      $('tab-' + v).classList.toggle('active', v === view);
    }
    if (updateHash) setHash(view === 'trace' && lastTraceHash ? lastTraceHash : view === 'cache' && lastCacheHash ? lastCacheHash : '#' + view);
    live.setActive(view === 'live' && !document.hidden);
    if (view === 'cache' && !cacheSearched) cacheSearch();
  }
  function setHash(h) { if (location.hash !== h) history.replaceState(null, '', h); }
  function fromHash() {
    const h = location.hash.replace(/^#/, '');
    const [view, query] = [h.split('?')[0], h.split('?').slice(1).join('?')];
    const p = new URLSearchParams(query);
    if (view === 'trace' && p.get('name')) {
      $('trace-name').value = p.get('name');
      if (p.get('type')) {
        const t = p.get('type').toUpperCase();
        if (![...$('trace-type').options].some((o) => o.value === t)) $('trace-type').add(new Option(t, t));
        $('trace-type').value = t;
      }
      if (p.has('cold')) $('trace-cold').checked = p.get('cold') !== '0' && p.get('cold') !== 'false';
      show('trace', false);
      runTrace();
    } else if (view === 'cache' && p.has('name')) {
      $('cache-name').value = p.get('name');
      $('cache-subtree').checked = p.get('subtree') === '1' || p.get('subtree') === 'true';
      cacheSearched = true; // searched right below, not again by show
      show('cache', false);
      cacheSearch();
    } else {
      show(views.includes(view) ? view : 'trace', false);
    }
  }
  for (const v of views) $('tab-' + v).addEventListener('click', () => show(v, true));
  window.addEventListener('hashchange', fromHash);
  document.addEventListener('visibilitychange', () => live.setActive(current === 'live' && !document.hidden));

  // ---- Trace view
  let lastTrace = null, selected = null, selectedServer = null, lastTraceHash = '', traceSeq = 0;
  const traceStatusEl = $('trace-status');
  function redraw() {
    if (!lastTrace) return;
    $('trace-drawing-wrap').innerHTML = drawTrace(lastTrace, { showDnssec: $('trace-show-dnssec').checked, selected });
    const hidden = hiddenSteps(lastTrace.steps || [], $('trace-show-dnssec').checked);
    const nq = (lastTrace.steps || []).filter((s, i) => hidden[i] && s.kind === 'query').length;
    $('trace-where').textContent = (lastTrace.where || '') +
      (nq ? ' · ' + plural(nq, 'chain-of-trust query', 'chain-of-trust queries') + ' hidden (tick "show the chain of trust")' : '');
  }
  function fillSteps(trace) {
    const ol = $('trace-steps');
    ol.textContent = '';
    (trace.steps || []).forEach((s, i) => {
      const li = el('li', stepSummary(s), 'k-' + s.kind + ' depth-' + Math.min(s.depth || 0, 4) +
        (s.kind === 'reply' || s.kind === 'error' ? ' o-' + outcomeClass(s) : '') + (s.kind === 'dnssec' ? ' v-' + s.outcome : ''));
      li.dataset.step = String(i);
      li.tabIndex = 0;
      ol.appendChild(li);
    });
  }
  function select(i, server) {
    if (!lastTrace || !lastTrace.steps[i]) return;
    selected = i; selectedServer = server || null;
    $('step-detail').textContent = stepDetail(lastTrace, i, selectedServer);
    for (const el of document.querySelectorAll('#trace-drawing .selected, #trace-steps .selected')) el.classList.remove('selected');
    const target = server
      ? document.querySelector('#trace-drawing .server-box[data-step="' + i + '"]')
      : document.querySelector('#trace-drawing [data-step="' + i + '"]:not(.server-box)');
    if (target) target.classList.add('selected');
    const li = document.querySelector('#trace-steps li[data-step="' + i + '"]'), ol = $('trace-steps');
    if (li) { // scroll the list only, not the page away from the drawing
      li.classList.add('selected');
      if (li.offsetTop < ol.scrollTop || li.offsetTop + li.offsetHeight > ol.scrollTop + ol.clientHeight) ol.scrollTop = li.offsetTop - ol.clientHeight / 3;
    }
    $('step-detail').scrollIntoView({ block: 'nearest' });
  }
  function onPick(e) {
    const el = e.target.closest('[data-step]');
    if (!el) return;
    if (e.type === 'keydown') { if (e.key !== 'Enter' && e.key !== ' ') return; e.preventDefault(); }
    const box = el.classList.contains('server-box') ? el.getAttribute('data-server') + ' ' + el.getAttribute('data-addr') : null;
    select(Number(el.getAttribute('data-step')), box);
    if (!box && el.tagName === 'LI') {
      const g = document.querySelector('#trace-drawing [data-step="' + el.dataset.step + '"]:not(.server-box)');
      if (g && g.scrollIntoView) g.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
  }
  for (const id of ['trace-drawing-wrap', 'trace-steps']) {
    $(id).addEventListener('click', onPick);
    $(id).addEventListener('keydown', onPick);
  }
  async function runTrace() {
    const name = $('trace-name').value.trim(), type = $('trace-type').value, cold = $('trace-cold').checked;
    if (!name) { setStatus(traceStatusEl, 'enter a name to trace, such as alias.example.com', 'error'); $('trace-name').focus(); return; }
    const seq = ++traceSeq;
    setStatus(traceStatusEl, 'tracing…', 'running');
    $('trace-run').disabled = true;
    lastTraceHash = '#trace?' + new URLSearchParams({ name, type, cold: cold ? '1' : '0' });
    if (current === 'trace') setHash(lastTraceHash);
    const params = new URLSearchParams(cold ? { name, type, cold: '1', messages: '1' } : { name, type, messages: '1' });
    try {
      const trace = await api('GET', '/trace?' + params);
      if (seq !== traceSeq) return; // a newer trace was asked for
      if (!trace || !Array.isArray(trace.steps)) throw new Error('the reply to /trace is not a trace');
      lastTrace = trace; selected = null; selectedServer = null;
      redraw();
      fillSteps(trace);
      $('step-detail').textContent = 'Click an arrow, a server box or a step to see its details.';
      setStatus(traceStatusEl, traceStatus(trace), 'done');
    } catch (e) {
      if (seq === traceSeq) setStatus(traceStatusEl, e.message, 'error');
    } finally {
      if (seq === traceSeq) $('trace-run').disabled = false;
    }
  }
  $('trace-run').addEventListener('click', runTrace);
  $('trace-name').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); runTrace(); } });
  $('trace-show-dnssec').addEventListener('change', () => { const keep = selected; redraw(); if (keep != null) select(keep, selectedServer); });

  // ---- Live view: /stats every second, /servers every two.
  const live = (() => {
    const history = []; // {qps, p50, p99}, one a poll, newest last
    let prev = null, statsTimer = null, serversTimer = null, busy = false, busyServers = false, active = false;
    const statusEl = $('live-status');
    const set = (id, text) => { $(id).textContent = text; };
    const fillTable = (tbody, rows) => tbody.replaceChildren(...rows.map((cells) => {
      const tr = el('tr');
      for (const [text, cls] of cells) tr.append(el('td', text, cls));
      return tr;
    }));
    function render(st) {
      const q = st.queries || {}, c = st.cache || {}, lat = st.latency_ms || {}, up = st.upstream || {};
      const now = { total: q.total || 0, uptime: st.uptime_seconds, at: performance.now() };
      let qps = null;
      if (prev && now.total >= prev.total) {
        // Elapsed time by the server's clock when it has one, else ours.
        const dt = typeof now.uptime === 'number' && now.uptime > prev.uptime ? now.uptime - prev.uptime : (now.at - prev.at) / 1000;
        if (dt > 0) qps = (now.total - prev.total) / dt;
      }
      prev = now;
      if (qps != null) set('live-qps', qps.toFixed(1));
      const texts = { total: q.total || 0, uptime: fmtUptime(st.uptime_seconds || 0), 'cache-entries': c.entries, 'cache-hits': c.hits,
        'cache-misses': c.misses, 'hit-ratio': typeof c.hit_ratio === 'number' ? (c.hit_ratio * 100).toFixed(1) + '%' : null,
        'upstream-queries': up.queries, 'up-timeouts': up.timeouts, 'up-tcp': up.tcp_fallbacks, 'up-errors': up.errors };
      for (const p of ['p50', 'p90', 'p99']) { texts[p] = fmtNum(lat[p]); texts['up-' + p] = fmtNum((up.rtt_ms || {})[p]); }
      for (const [id, v] of Object.entries(texts)) set('live-' + id, String(v ?? '–'));
      const byRcode = Object.entries(q.by_rcode || {}).sort((a, b) => b[1] - a[1]);
      const sum = byRcode.reduce((t, [, n]) => t + n, 0) || 1;
      fillTable($('live-rcodes').tBodies[0], byRcode.map(([k, n]) => [[k, 'rc-' + k], [String(n), 'num'], [(n / sum * 100).toFixed(1) + '%', 'num']]));
      fillTable($('live-types').tBodies[0], Object.entries(q.by_type || {}).sort((a, b) => b[1] - a[1]).map(([k, n]) => [[k], [String(n), 'num']]));
      const r = st.redis;
      $('live-redis').hidden = !r;
      if (r) {
        set('live-redis-hit-ratio', ((r.hit_ratio || 0) * 100).toFixed(1) + '%');
        set('live-redis-breaker', r.breaker || '?');
        $('live-redis-breaker').className = 'pill breaker-' + (r.breaker || 'unknown');
        set('live-redis-hits', (r.hits ?? 0) + ' / ' + (r.misses ?? 0));
        set('live-redis-errors', (r.errors ?? 0) + ' / ' + (r.rejected ?? 0));
        set('live-redis-get', fmtNum((r.get_ms || {}).p50) + ' / ' + fmtNum((r.get_ms || {}).p99));
      }
      history.push({ qps, p50: lat.p50 ?? null, p99: lat.p99 ?? null });
      if (history.length > 120) history.splice(0, history.length - 120);
      $('chart-qps').innerHTML = drawChart([{ name: 'queries/s', cls: 'qps', values: history.map((h) => h.qps) }], { unit: 'q/s' });
      $('chart-latency').innerHTML = drawChart([
        { name: 'p50', cls: 'p50', values: history.map((h) => h.p50) },
        { name: 'p99', cls: 'p99', values: history.map((h) => h.p99) }], { unit: 'ms' });
    }
    async function pollStats() {
      if (busy) return;
      busy = true;
      try {
        const st = await api('GET', '/stats');
        if (active) { render(st); setStatus(statusEl, 'updated ' + new Date().toLocaleTimeString(), 'done'); }
      } catch (e) {
        prev = null;
        history.push({ qps: null, p50: null, p99: null });
        setStatus(statusEl, e.message, 'error');
      } finally { busy = false; }
    }
    async function pollServers() {
      if (busyServers) return;
      busyServers = true;
      try {
        const data = await api('GET', '/servers');
        $('live-servers-block').hidden = false;
        const list = (data && data.servers) || [];
        fillTable($('live-servers').tBodies[0], list.map((s) => [[s.addr, 'mono'], [fmtNum(s.srtt_ms), 'num'], [fmtNum(s.rttvar_ms), 'num'],
          [String(s.timeouts ?? 0), 'num' + (s.timeouts ? ' warn' : '')], [s.down ? 'down' : 'up', s.down ? 'down' : 'up'],
          [String(s.lame_zones ?? 0), 'num'], [fmtNum(s.idle_seconds, 1), 'num']]));
      } catch (e) {
        if (e.status === 404) { $('live-servers-block').hidden = true; clearInterval(serversTimer); serversTimer = null; }
      } finally { busyServers = false; }
    }
    return {
      setActive(on) {
        if (on === active) return;
        active = on;
        clearInterval(statsTimer); clearInterval(serversTimer); statsTimer = serversTimer = null;
        if (!on) return;
        prev = null; // a pause is not a second of zero queries
        pollStats(); pollServers();
        statsTimer = setInterval(pollStats, 1000);
        serversTimer = setInterval(pollServers, 2000);
      },
    };
  })();
  function fmtUptime(s) {
    return s < 60 ? s.toFixed(0) + ' s' : s < 3600 ? Math.floor(s / 60) + ' min' : s < 86400 ? (s / 3600).toFixed(1) + ' h' : (s / 86400).toFixed(1) + ' d';
  }

  // ---- Cache view
  const cacheStatusEl = $('cache-status');
  let cacheSearched = false, lastCacheHash = '', cacheSeq = 0;
  function fillCache(data) {
    const tbody = $('cache-entries').tBodies[0];
    tbody.replaceChildren();
    for (const e of data.entries || []) {
      const tr = el('tr', null, 'cache-entry' + (e.stale ? ' stale' : ''));
      tr.dataset.name = e.name || ''; tr.dataset.type = e.type || ''; tr.dataset.kind = e.kind || '';
      const td = (text, cls) => tr.appendChild(el('td', text, cls));
      const kind = td(e.kind, 'kind');
      if (e.trust) kind.append(el('div', e.trust, 'dim'));
      td(e.name, 'mono');
      td(e.type || (e.kind === 'nxdomain' ? 'any' : ''), 'mono');
      td(e.rcode || '', 'rc-' + (e.rcode || 'none'));
      const ttl = td((e.ttl ?? '?') + ' / ' + (e.original_ttl ?? '?'), 'num mono');
      if (e.stale) ttl.append(' ', el('span', 'stale', 'pill stale'));
      td((e.records || []).map((r) => r.replace(/\t/g, ' ')).join('\n'), 'records mono');
      tbody.appendChild(tr);
    }
  }
  function cacheScope(subtree) {
    const name = $('cache-name').value.trim();
    return new URLSearchParams(!name ? {} : subtree ? { name, subtree: '1' } : { name });
  }
  async function searchOnly() {
    const p = cacheScope($('cache-subtree').checked);
    lastCacheHash = '#cache' + (p.has('name') ? '?' + p : '');
    if (current === 'cache') setHash(lastCacheHash);
    p.set('limit', '200');
    // A newer search or flush owns the table and the status: this one's
    // result, or error, is dropped (null).
    const seq = ++cacheSeq;
    let data;
    try { data = await api('GET', '/cache?' + p); } catch (e) { if (seq === cacheSeq) throw e; return null; }
    if (seq !== cacheSeq) return null;
    fillCache(data || {});
    const n = (data && data.count) ?? ((data && data.entries) || []).length;
    return plural(n, 'entry', 'entries') + (data && data.truncated ? ' (more match: showing the first ' + n + ')' : '');
  }
  async function cacheSearch() {
    cacheSearched = true;
    setStatus(cacheStatusEl, 'searching…', 'running');
    try {
      const text = await searchOnly();
      if (text != null) setStatus(cacheStatusEl, text, 'done');
    } catch (e) { setStatus(cacheStatusEl, e.message, 'error'); }
  }
  async function cacheFlush(scope) {
    if (scope !== 'all' && !$('cache-name').value.trim()) return setStatus(cacheStatusEl, 'enter a name to flush first (or use "Flush everything")', 'error');
    if (scope === 'all' && !confirm('Flush the whole cache of this resolver (and the shared cache, if there is one)?')) return;
    setStatus(cacheStatusEl, 'flushing…', 'running');
    const seq = ++cacheSeq; // a search still under way is stale now
    const p = scope === 'all' ? new URLSearchParams() : cacheScope(scope === 'subtree');
    let text, state = 'done';
    try {
      const data = await api('POST', '/cache/flush' + (p.has('name') ? '?' + p : ''));
      text = 'flushed ' + plural((data && data.flushed) || 0, 'entry', 'entries') + sharedNote(data);
    } catch (e) {
      // 502: this instance was flushed, the fleet's shared cache perhaps not.
      if (!e.data || typeof e.data.flushed !== 'number') return setStatus(cacheStatusEl, e.message, 'error');
      text = 'flushed ' + plural(e.data.flushed, 'entry', 'entries') + sharedNote(e.data);
      state = 'error';
    }
    if (seq !== cacheSeq) return; // superseded while flushing
    try {
      const found = await searchOnly();
      if (found == null) return;
      text += ' · now ' + found;
    } catch (e) { text += ' · search: ' + e.message; state = 'error'; }
    setStatus(cacheStatusEl, text, state);
  }
  function sharedNote(data) {
    const sh = data && data.shared;
    return !sh ? '' : sh.error ? '; the shared cache (Redis) may not be flushed: ' + sh.error : '; ' + sh.deleted + ' deleted from the shared cache (Redis)';
  }
  $('cache-search').addEventListener('click', cacheSearch);
  $('cache-name').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); cacheSearch(); } });
  $('cache-flush-name').addEventListener('click', () => cacheFlush('name'));
  $('cache-flush-subtree').addEventListener('click', () => cacheFlush('subtree'));
  $('cache-flush-all').addEventListener('click', () => cacheFlush('all'));

  fromHash();
});
